"""the denials told to the audit topic, so that the purge and an erasure can tombstone them

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 11:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "denials",
        sa.Column("denial_id", sa.String(length=36), nullable=False),
        sa.Column("pupil_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("denied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("denial_id"),
    )
    with op.batch_alter_table("denials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_denials_pupil_id"), ["pupil_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_denials_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_denials_denied_at"), ["denied_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("denials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_denials_denied_at"))
        batch_op.drop_index(batch_op.f("ix_denials_person_id"))
        batch_op.drop_index(batch_op.f("ix_denials_pupil_id"))

    op.drop_table("denials")
