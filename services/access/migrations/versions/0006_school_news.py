"""the copy of the reports' metadata, the schools' news, when a person was last told

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_mail_recipients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("news_told_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "access_report_versions",
        sa.Column("pupil_id", sa.String(length=11), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("pupil_id", "version"),
    )
    op.create_table(
        "access_school_news",
        sa.Column("school_id", sa.String(length=12), nullable=False),
        sa.Column("pupil_id", sa.String(length=11), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("school_id", "pupil_id"),
    )
    with op.batch_alter_table("access_school_news", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_school_news_noticed_at"), ["noticed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("access_school_news", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_school_news_noticed_at"))
    op.drop_table("access_school_news")
    op.drop_table("access_report_versions")
    with op.batch_alter_table("access_mail_recipients", schema=None) as batch_op:
        batch_op.drop_column("news_told_at")
