"""Case threads (room chat lines are stored there too), each person's
notifications, and calendars: a conference's invitation sequence number and each
person's feed generation (raised to revoke their subscription address).

Revision ID: 0008
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("conference_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["conference_id"], ["conference.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["agenda_item.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_message_case", "case_message", ["case_id", "id"])
    op.create_index("ix_case_message_conference_id", "case_message", ["conference_id"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notification_user", "notification", ["user_id", "id"])
    with op.batch_alter_table("conference") as batch:
        batch.add_column(sa.Column("calendar_sequence", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("cancelled_at", storage.types.UTCDateTime(timezone=True),
                                   nullable=True))
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("calendar_generation", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("calendar_generation")
    with op.batch_alter_table("conference") as batch:
        batch.drop_column("cancelled_at")
        batch.drop_column("calendar_sequence")
    op.drop_index("ix_notification_user", table_name="notification")
    op.drop_table("notification")
    op.drop_index("ix_case_message_conference_id", table_name="case_message")
    op.drop_index("ix_case_message_case", table_name="case_message")
    op.drop_table("case_message")
