"""the register of schools, the copy of the enrolment register, support requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_schools",
        sa.Column("school_id", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("clb_id", sa.String(length=12), nullable=True),
        sa.PrimaryKeyConstraint("school_id"),
    )
    op.create_index(op.f("ix_access_schools_clb_id"), "access_schools", ["clb_id"], unique=False)
    op.create_table(
        "access_enrolments",
        sa.Column("pupil_id", sa.String(length=11), nullable=False),
        sa.Column("school_id", sa.String(length=12), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pupil_id", "school_id"),
    )
    op.create_index(
        op.f("ix_access_enrolments_school_id"), "access_enrolments", ["school_id"], unique=False
    )
    op.create_table(
        "access_support_requests",
        sa.Column("support_request_id", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=12), nullable=False),
        sa.Column("pupil_id", sa.String(length=11), nullable=False),
        sa.Column("support_network", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("sent_by", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("support_workers", sa.Text(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("support_request_id"),
    )
    for column in ("school_id", "support_network", "status"):
        op.create_index(
            op.f(f"ix_access_support_requests_{column}"),
            "access_support_requests",
            [column],
            unique=False,
        )
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("support_request_id", sa.String(length=36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_access_requests_support_request_id"), ["support_request_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_requests_support_request_id"))
        batch_op.drop_column("support_request_id")
    for column in ("school_id", "support_network", "status"):
        op.drop_index(
            op.f(f"ix_access_support_requests_{column}"), table_name="access_support_requests"
        )
    op.drop_table("access_support_requests")
    op.drop_index(op.f("ix_access_enrolments_school_id"), table_name="access_enrolments")
    op.drop_table("access_enrolments")
    op.drop_index(op.f("ix_access_schools_clb_id"), table_name="access_schools")
    op.drop_table("access_schools")
