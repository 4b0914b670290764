"""Sign-in throttled by account and address; a signed decision row matches its revision.

- ``sign_in_throttle``: failed sign-ins counted per (account, client address) and per
  address, each with one atomic UPSERT before the password is checked
  (``storage/throttle.py``). The per-account ``user.failed_logins`` and
  ``user.locked_until`` it replaces are dropped: they let anyone lock anyone out.
- A signed ``decision`` row changes only into what the recorded revision of its next
  version says (an amendment inserts that revision first), so a raw UPDATE that
  fakes an amendment is refused on both databases.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

REFUSE = "a signed decision changes only by amendment"
# Every column an amendment writes must equal the new revision's; agenda_item_id
# (and the id, the primary key) never change.
_PG_MATCHES = (
    "EXISTS (SELECT 1 FROM decision_revision r WHERE r.agenda_item_id = NEW.agenda_item_id "
    "AND r.version = NEW.version AND r.outcome = NEW.outcome AND r.rationale = NEW.rationale "
    "AND r.plan = NEW.plan AND r.follow_up_weeks = NEW.follow_up_weeks "
    "AND r.responsible_clinician_id IS NOT DISTINCT FROM NEW.responsible_clinician_id "
    "AND r.present_user_ids::jsonb IS NOT DISTINCT FROM NEW.present_user_ids::jsonb "
    "AND r.dissent::jsonb IS NOT DISTINCT FROM NEW.dissent::jsonb)"
)
_SQLITE_MATCHES = (
    "EXISTS (SELECT 1 FROM decision_revision r WHERE r.agenda_item_id = NEW.agenda_item_id "
    "AND r.version = NEW.version AND r.outcome = NEW.outcome AND r.rationale = NEW.rationale "
    "AND r.plan = NEW.plan AND r.follow_up_weeks = NEW.follow_up_weeks "
    "AND r.responsible_clinician_id IS NEW.responsible_clinician_id "
    "AND r.present_user_ids IS NEW.present_user_ids AND r.dissent IS NEW.dissent)"
)


def _pg_guard(matches: str) -> str:
    return (
        "CREATE OR REPLACE FUNCTION casebridge_signed_decision() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'DELETE' THEN "
        "  RAISE EXCEPTION 'a signed decision is never deleted'; "
        "END IF; "
        "IF NEW.status <> 'signed' OR NEW.version <> OLD.version + 1 "
        f"   OR NEW.id <> OLD.id OR NOT {matches} THEN "
        f"  RAISE EXCEPTION '{REFUSE}'; "
        "END IF; "
        "RETURN NEW; END $$"
    )


def _sqlite_guard(matches: str) -> str:
    return (
        "CREATE TRIGGER decision_signed_no_update BEFORE UPDATE ON decision "
        "WHEN OLD.status = 'signed' AND (NEW.status <> 'signed' "
        f"OR NEW.version <> OLD.version + 1 OR NEW.id <> OLD.id OR NOT {matches}) "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSE}'); END"
    )


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account", "address"),
    )
    op.drop_column("user", "failed_logins")
    op.drop_column("user", "locked_until")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_pg_guard(_PG_MATCHES))
    else:
        op.execute("DROP TRIGGER decision_signed_no_update")
        op.execute(_sqlite_guard(_SQLITE_MATCHES))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_pg_guard("TRUE"))
    else:
        op.execute("DROP TRIGGER decision_signed_no_update")
        op.execute(_sqlite_guard("1"))
    op.add_column("user", sa.Column("locked_until", storage.types.UTCDateTime(timezone=True),
                                    nullable=True))
    op.add_column("user", sa.Column("failed_logins", sa.Integer(), nullable=False,
                                    server_default="0"))
    op.drop_table("sign_in_throttle")
