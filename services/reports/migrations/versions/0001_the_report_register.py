"""the report register

Revision ID: 0001
Revises:
Create Date: 2026-11-28 15:19:24.803842
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_heads",
        sa.Column("pupil_id", sa.String(length=11), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pupil_id"),
    )
    op.create_table(
        "reports_outbox",
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
    with op.batch_alter_table("reports_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_outbox_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "reports",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("pupil_id", sa.String(length=11), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("clb_id", sa.String(length=12), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=True),
        sa.Column("opleidingsvorm", sa.SmallInteger(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("issue_sequence", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_digest", sa.String(length=64), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.Column("withdraw_sequence", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["report_heads.pupil_id"],
        ),
        sa.PrimaryKeyConstraint("report_id"),
        sa.UniqueConstraint("pupil_id", "idempotency_key", name="uq_reports_pupil_idempotency_key"),
        sa.UniqueConstraint("pupil_id", "issue_sequence", name="uq_reports_pupil_issue_sequence"),
        sa.UniqueConstraint("pupil_id", "version", name="uq_reports_pupil_version"),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_clb_id"), ["clb_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_pupil_id"), ["pupil_id"], unique=False)

    op.create_table(
        "report_contents",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("needs", sa.Text(), nullable=False),
        sa.Column("advice", sa.Text(), nullable=False),
        sa.Column("measures_taken", sa.Text(), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.report_id"],
        ),
        sa.PrimaryKeyConstraint("report_id"),
    )


def downgrade() -> None:
    op.drop_table("report_contents")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_pupil_id"))
        batch_op.drop_index(batch_op.f("ix_reports_clb_id"))

    op.drop_table("reports")
    with op.batch_alter_table("reports_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_outbox_sent_at"))

    op.drop_table("reports_outbox")
    op.drop_table("report_heads")
