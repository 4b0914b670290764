"""Patient-reported outcome measures and the patients' single-use links.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcome_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("instruments", sa.JSON(), nullable=True),
        sa.Column("timepoint", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outcome_link_case_id", "outcome_link", ["case_id"])
    op.create_table(
        "outcome_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("instrument", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("timepoint", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("collected_on", sa.Date(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=True),
        sa.Column("score_tenths", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome_link_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["outcome_link_id"], ["outcome_link.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outcome_measure_case", "outcome_measure", ["case_id", "instrument"])


def downgrade() -> None:
    op.drop_index("ix_outcome_measure_case", table_name="outcome_measure")
    op.drop_table("outcome_measure")
    op.drop_index("ix_outcome_link_case_id", table_name="outcome_link")
    op.drop_table("outcome_link")
