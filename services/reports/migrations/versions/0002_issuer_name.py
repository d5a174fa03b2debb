"""the name of the staff member who issued a version

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("issued_by_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("issued_by_name")
