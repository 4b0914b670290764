"""Full-text search over the cases a reader may open, and "similar decided cases".

One document per case (its question, summary, history of care and the latest signed
decision's rationale and plan) lives in ``case_search``: an FTS5 table on SQLite, a
``tsvector`` column with a GIN index on PostgreSQL (migration 0011). The document is
rewritten in the same transaction as any change to what it holds (a SQLAlchemy
``before_commit`` hook), so search never shows stale text. The reader's permission is a
condition inside the query (:func:`storage.cases.visible_filter`); the text typed is
always a bound parameter, turned into terms, never SQL or FTS syntax.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session, select

from conference.errors import NotFound
from storage import cases
from storage.search_index import document, latest_revision, postgres
from storage.tables import Case, User

MAX_RESULTS = 50
WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)
STOPWORDS = frozenset("""a an and are as at be but by for from has have in into is it its of on or
    that the their this to was were with after before than then there these they those what when
    which who will would should could can may not no nor so such very over under more most
    other some any each few both all only own same too just also about against between during
    until while per via yes refer continue patient weeks months years week month year""".split())


@dataclass(frozen=True)
class Hit:
    case_id: int
    patient_ref: str
    snippet: str
    outcome: str | None


# -- reading -----------------------------------------------------------------------


def terms(query: str, *, limit: int = 12) -> list[str]:
    """The words of what was typed, lower case, without stop words: data, never syntax."""
    seen = [w.lower() for w in WORD.findall(query)]
    return list(dict.fromkeys(w for w in seen if w not in STOPWORDS))[:limit]


def _fts_match(words: list[str], *, any_of: bool) -> str:
    # Each word quoted as an FTS5 string (a quote inside doubled): no operator survives.
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    return (" OR " if any_of else " ").join(quoted)


def _ranked(session: Session, words: list[str], *, any_of: bool, limit: int,
            within: list[str]) -> list[tuple[int, str]]:
    """(case id, snippet) best first, among the case ids each of the ``within`` SQL
    subqueries selects (built by this module, never from what was typed).

    Two steps: the matches are ranked once, materialised, and only then filtered by
    permission (a filter the planner pushed into the full-text scan was evaluated per
    document: a second and more on 10,000 cases); the snippets, the costly part, are
    made for the final page only."""
    if not words:
        return []
    params: dict[str, object] = {"limit": limit}
    where = " AND ".join(f"id IN ({sub})" for sub in within) or "TRUE"
    if postgres(session):
        params["q"] = (" | " if any_of else " & ").join(
            f"'{w}'" for w in words)  # words are letters and digits: no quote can occur
        matches = ("SELECT case_id AS id, ts_rank(document, to_tsquery('english', :q)) "
                   "AS score FROM case_search WHERE document @@ to_tsquery('english', :q)")
        order = "score DESC, id DESC"
    else:
        params["q"] = _fts_match(words, any_of=any_of)
        matches = ("SELECT rowid AS id, bm25(case_search) AS score FROM case_search "
                   "WHERE case_search MATCH :q")
        order = "score, id DESC"
    sql = (f"WITH m AS MATERIALIZED ({matches}) "
           f"SELECT id FROM m WHERE {where} ORDER BY {order} LIMIT :limit")
    ids = [int(r[0]) for r in session.execute(text(sql), params)]
    if not ids:
        return []
    chosen = ", ".join(str(i) for i in ids)  # integers from the database
    if postgres(session):
        snippets = ("SELECT case_id, ts_headline('english', body, to_tsquery('english', :q), "
                    "'MaxWords=24, MinWords=8, StartSel=[, StopSel=]') FROM case_search "
                    f"WHERE case_id IN ({chosen})")
    else:
        snippets = ("SELECT rowid, snippet(case_search, 0, '[', ']', '…', 16) FROM case_search "
                    f"WHERE case_search MATCH :q AND rowid IN ({chosen})")
    found = {int(r[0]): str(r[1]) for r in session.execute(text(snippets), {"q": params["q"]})}
    return [(i, found.get(i, "")) for i in ids]


def _allowed(session: Session, viewer: User) -> list[str]:
    """The reader's permission as a subquery of case ids (none: every case): the
    condition of :func:`storage.cases.visible_filter`, compiled with its values (ids
    and enum names, never typed text) inlined."""
    condition = cases.visible_filter(viewer)
    if condition is None:
        return []
    query = select(Case.id).where(condition)
    return [str(query.compile(dialect=session.get_bind().dialect,
                              compile_kwargs={"literal_binds": True}))]


def _hits(session: Session, ranked: list[tuple[int, str]]) -> list[Hit]:
    out = []
    for case_id, snippet in ranked:
        case = session.get(Case, case_id)
        latest = latest_revision(session, case_id)
        if case is not None:
            out.append(Hit(case_id, case.patient_ref, " ".join(snippet.split()),
                           latest.outcome.value if latest else None))
    return out


def search(session: Session, *, viewer: User, query: str, limit: int = 20) -> list[Hit]:
    """Cases the reader may open that hold every word typed, best match first."""
    words = terms(query)
    return _hits(session, _ranked(session, words, any_of=False, limit=min(limit, MAX_RESULTS),
                                  within=_allowed(session, viewer)))


def similar(session: Session, *, viewer: User, case_id: int, limit: int = 5) -> list[Hit]:
    """Past cases with a signed decision whose clinical text is most like this one's:
    ranked on this case's most frequent distinctive words. Never one the reader may
    not open, never the case itself."""
    case = cases.get_case(session, case_id)
    if not cases.may_view(session, viewer=viewer, case=case):
        raise NotFound(f"No case with id {case_id}.")
    counts = Counter(w for w in terms(document(session, case), limit=10_000)
                     if not w.isdigit() and w != case.patient_ref.lower())
    words = [w for w, _ in counts.most_common(8)]
    decided = f"SELECT case_id FROM decision_revision WHERE case_id != {int(case_id)}"
    return _hits(session, _ranked(session, words, any_of=True, limit=limit,
                                  within=[decided, *_allowed(session, viewer)]))
