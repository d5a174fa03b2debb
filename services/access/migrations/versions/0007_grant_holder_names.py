"""the name of a grant's person and of an access request's support worker, shown
instead of their national register number

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_name", sa.String(length=200), nullable=True))
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_column("person_name")
    with op.batch_alter_table("access_grants", schema=None) as batch_op:
        batch_op.drop_column("person_name")
