"""the enrolment register

Revision ID: 0001
Revises:
Create Date: 2026-11-28 15:05:40.653777
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrolment_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("enrolment_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolment_outbox_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "enrolment_seen_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pupil_id", sa.String(length=11), nullable=False),
        sa.Column("school_id", sa.String(length=12), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pupil_id", "school_id", name="uq_enrolments_pupil_school"),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_pupil_id"), ["pupil_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_school_id"), ["school_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_school_id"))
        batch_op.drop_index(batch_op.f("ix_enrolments_pupil_id"))

    op.drop_table("enrolments")
    op.drop_table("enrolment_seen_events")
    with op.batch_alter_table("enrolment_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_outbox_sent_at"))

    op.drop_table("enrolment_outbox")
