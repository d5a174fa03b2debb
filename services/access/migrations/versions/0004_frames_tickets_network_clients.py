"""frame origins of school-software clients, launch tickets, support-network clients,
the people IRIS may e-mail

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frame_origins", sa.Text(), nullable=True))
    with op.batch_alter_table("access_service_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("support_network", sa.String(length=200), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_access_service_clients_support_network"),
            ["support_network"],
            unique=False,
        )
    op.create_table(
        "access_launch_tickets",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.String(length=12), nullable=False),
        sa.Column("pupil_id", sa.String(length=11), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("ticket_hash"),
    )
    with op.batch_alter_table("access_launch_tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_launch_tickets_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "access_mail_recipients",
        sa.Column("person_id", sa.String(length=11), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("responsible_of", sa.Text(), nullable=True),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("last_digest_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
    )


def downgrade() -> None:
    op.drop_table("access_mail_recipients")
    with op.batch_alter_table("access_launch_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_launch_tickets_expires_at"))
    op.drop_table("access_launch_tickets")
    with op.batch_alter_table("access_service_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_service_clients_support_network"))
        batch_op.drop_column("support_network")
    with op.batch_alter_table("access_clients", schema=None) as batch_op:
        batch_op.drop_column("frame_origins")
