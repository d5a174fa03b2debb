"""service clients: the platform's own services, with secrets for internal tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_service_clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("client_id"),
    )
    with op.batch_alter_table("access_service_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_service_clients_service"), ["service"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("access_service_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_service_clients_service"))
    op.drop_table("access_service_clients")
