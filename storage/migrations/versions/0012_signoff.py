"""Sign-off backed by the meeting: drafts know whether their present list was edited
by hand, and signed revisions record who was added by hand and why.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: on SQLite a batch copies the table and would drop
    # the guards on decision and decision_revision (migrations 0001-0003).
    op.add_column("decision", sa.Column("presence_edited", sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column("decision", sa.Column("attendance_note", sa.Text(), nullable=True))
    op.add_column("decision_revision", sa.Column("present_by_hand", sa.JSON(), nullable=True))
    op.add_column("decision_revision", sa.Column("attendance_note", sa.Text(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column only by copying the table, which would lose the
        # guards; the columns are left in place (nullable, unused before 0012).
        return
    op.drop_column("decision_revision", "attendance_note")
    op.drop_column("decision_revision", "present_by_hand")
    op.drop_column("decision", "attendance_note")
    op.drop_column("decision", "presence_edited")
