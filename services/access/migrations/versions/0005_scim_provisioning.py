"""provisioning by SCIM: the grants' source, the user management's clients, users,
groups and memberships

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=8), server_default="iris", nullable=False)
        )
    with op.batch_alter_table("access_service_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("directory", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("schools", sa.Text(), nullable=True))
    op.create_table(
        "access_scim_users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("directory", sa.String(length=200), nullable=False),
        sa.Column("user_name", sa.String(length=11), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("directory", "user_name", name="uq_access_scim_users_user_name"),
    )
    with op.batch_alter_table("access_scim_users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_scim_users_user_name"), ["user_name"], unique=False
        )
    op.create_table(
        "access_scim_groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("directory", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=300), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("school_id", sa.String(length=12), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("access_scim_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_scim_groups_directory"), ["directory"], unique=False
        )
    op.create_table(
        "access_scim_members",
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "user_id"),
    )
    with op.batch_alter_table("access_scim_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_scim_members_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("access_scim_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_scim_members_user_id"))
    op.drop_table("access_scim_members")
    with op.batch_alter_table("access_scim_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_scim_groups_directory"))
    op.drop_table("access_scim_groups")
    with op.batch_alter_table("access_scim_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_scim_users_user_name"))
    op.drop_table("access_scim_users")
    with op.batch_alter_table("access_service_clients", schema=None) as batch_op:
        batch_op.drop_column("schools")
        batch_op.drop_column("directory")
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.drop_column("source")
