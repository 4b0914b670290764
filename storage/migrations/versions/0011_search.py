"""Full-text search over cases: an FTS5 table on SQLite, a tsvector column with a GIN
index on PostgreSQL; one document per case (storage/search.py keeps it current).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE TABLE case_search (
                case_id INTEGER PRIMARY KEY REFERENCES "case"(id),
                body TEXT NOT NULL,
                document tsvector GENERATED ALWAYS AS (to_tsvector('english', body)) STORED
            )""")
        op.execute("CREATE INDEX ix_case_search_document ON case_search USING GIN (document)")
    else:
        op.execute("CREATE VIRTUAL TABLE case_search USING fts5(body, tokenize='porter unicode61')")
    # Existing cases are indexed when the app starts (storage.search_index.ensure_indexed).


def downgrade() -> None:
    op.execute("DROP TABLE case_search")
