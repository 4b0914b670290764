"""The mail outbox, and each person's choice to get notices by mail.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.Enum("notice", "invitation", "cancellation", name="mailkind",
                                  native_enum=False, create_constraint=False, length=32),
                  nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("to_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("calendar", sa.Text(), nullable=True),
        sa.Column("status", sa.Enum("pending", "sending", "sent", "failed", name="mailstatus",
                                    native_enum=False, create_constraint=False, length=32),
                  nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_key"),
    )
    op.create_index("ix_outbox_mail_due", "outbox_mail", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_mail_user_id", "outbox_mail", ["user_id"])
    # Plain ADD COLUMN (a SQLite batch would copy the table).
    op.add_column("user", sa.Column("mail_notices", sa.Boolean(), nullable=False,
                                    server_default=sa.true()))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_column("user", "mail_notices")
    op.drop_index("ix_outbox_mail_user_id", table_name="outbox_mail")
    op.drop_index("ix_outbox_mail_due", table_name="outbox_mail")
    op.drop_table("outbox_mail")
