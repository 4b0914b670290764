"""Credential generations; TRUNCATE refused on the append-only tables; signed decisions guarded.

- ``user.credential_generation``: every session cookie and API token carries the
  generation it was issued under; sign-out, a password change, deactivation and
  "sign out everywhere" raise it, so whatever was issued before stops working.
- PostgreSQL: statement-level ``BEFORE TRUNCATE`` triggers on ``audit_event`` and
  ``decision_revision`` (SQLite has no TRUNCATE).
- Both: a signed ``decision`` row changes only as an amendment does (its version
  goes up by one and it stays signed); anything else is refused, and it is never
  deleted.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("decision_revision", "audit_event")


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("credential_generation", sa.Integer(), nullable=False,
                                   server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION casebridge_append_only()"
            )
        op.execute(
            "CREATE FUNCTION casebridge_signed_decision() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP = 'DELETE' THEN "
            "  RAISE EXCEPTION 'a signed decision is never deleted'; "
            "END IF; "
            "IF NEW.status <> 'signed' OR NEW.version <> OLD.version + 1 THEN "
            "  RAISE EXCEPTION 'a signed decision changes only by amendment'; "
            "END IF; "
            "RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER decision_signed_guard BEFORE UPDATE OR DELETE ON decision "
            "FOR EACH ROW WHEN (OLD.status = 'signed') "
            "EXECUTE FUNCTION casebridge_signed_decision()"
        )
        return
    op.execute(
        "CREATE TRIGGER decision_signed_no_update BEFORE UPDATE ON decision "
        "WHEN OLD.status = 'signed' AND (NEW.status <> 'signed' OR NEW.version <> OLD.version + 1) "
        "BEGIN SELECT RAISE(ABORT, 'a signed decision changes only by amendment'); END"
    )
    op.execute(
        "CREATE TRIGGER decision_signed_no_delete BEFORE DELETE ON decision "
        "WHEN OLD.status = 'signed' "
        "BEGIN SELECT RAISE(ABORT, 'a signed decision is never deleted'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS decision_signed_guard ON decision")
        op.execute("DROP FUNCTION IF EXISTS casebridge_signed_decision()")
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    else:
        op.execute("DROP TRIGGER IF EXISTS decision_signed_no_update")
        op.execute("DROP TRIGGER IF EXISTS decision_signed_no_delete")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("credential_generation")
