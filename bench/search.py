"""Search, "similar decided cases" and a year's analytics at scale (issue 11).

Generates 10,000 cases (with histories of care, agenda items on 50 conferences over a
year, decisions on about 60 % of them, attendance) and 30,000 outcome measures into a
fresh SQLite file and a fresh PostgreSQL database, then times, on each:

- a plain indexed lookup of one case by id (the baseline of the same run),
- ``storage.search.search`` (two-word queries; a coordinator, who sees everything,
  and a member, whose permission filter is in the query),
- ``storage.search.similar`` for random cases,
- ``storage.analytics.report`` for the whole year.

    python3 bench/search.py                       # both databases
    python3 bench/search.py --backends sqlite --cases 2000

Aims (issue 11): search p95 under 50 ms, analytics under 500 ms on this machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from conference.agenda import ItemStatus  # noqa: E402
from conference.conferences import ConferenceStatus  # noqa: E402
from conference.people import ConferenceRole, Role, Specialty  # noqa: E402
from storage import analytics, search  # noqa: E402
from storage.engine import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.search_index import ensure_indexed  # noqa: E402
from storage.tables import (  # noqa: E402
    AgendaItem,
    Attendance,
    CareEntry,
    Case,
    Conference,
    ConferenceMember,
    DecisionRevision,
    OutcomeMeasure,
    User,
)
from tests.databases import PostgresDatabases  # noqa: E402

CONDITIONS = ["lumbar stenosis", "neurogenic claudication", "disc herniation", "radiculopathy",
              "spondylolisthesis", "cervical myelopathy", "facet arthropathy", "sciatica",
              "degenerative scoliosis", "compression fracture", "foraminal stenosis",
              "axial back pain", "sacroiliac pain", "adjacent segment disease"]
LEVELS = ["L3-4", "L4-5", "L5-S1", "C5-6", "C6-7", "T12-L1"]
SIGNS = ["foot drop", "walking distance 200 metres", "night pain", "bladder urgency",
         "numbness in the thigh", "weak dorsiflexion", "hand clumsiness", "no red flags"]
TREATMENTS = [("physical_therapy", "core stabilisation programme"),
              ("medication", "gabapentin titrated to 900 mg"),
              ("injection", "transforaminal epidural steroid injection"),
              ("injection", "medial branch blocks"), ("other", "acupuncture course")]
OUTCOMES = ["physical_therapy", "pain_management", "surgical_consult", "surgery_recommended",
            "continue_conservative", "further_imaging"]


def generate(session: Session, n_cases: int, seed: int = 7) -> tuple[int, int, list[int]]:
    """Fill the database; returns (coordinator id, a member's id, case ids)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    specialties = [Specialty.NEUROSURGERY, Specialty.ORTHOPEDIC_SPINE, Specialty.PAIN_MEDICINE,
                   Specialty.PHYSICAL_THERAPY, Specialty.PRIMARY_CARE]
    people = [{"email": f"p{i}@bench.example", "name": f"Dr. Bench {i}",
               "role": Role.COORDINATOR if i == 0 else Role.SPECIALIST,
               "specialty": None if i == 0 else specialties[i % 5],
               "password_hash": "x", "active": True, "created_at": now,
               "credential_generation": 0, "credentials": "", "calendar_generation": 0}
              for i in range(11)]
    session.execute(insert(User), people)
    ids = list(session.scalars(select(User.id).order_by(User.id)))
    coordinator, members = ids[0], ids[1:]
    confs = [{"title": f"Spine conference {k}", "starts_at": now - timedelta(days=7 * k + 3),
              "duration_minutes": 90, "chair_id": members[k % 2], "status":
              ConferenceStatus.CLOSED, "created_by_id": coordinator, "created_at": now,
              "calendar_sequence": 0} for k in range(50)]
    session.execute(insert(Conference), confs)
    conf_ids = list(session.scalars(select(Conference.id).order_by(Conference.id)))
    # Member 1 sits on every other conference: their searches are filtered.
    session.execute(insert(ConferenceMember), [
        {"conference_id": c, "user_id": m, "conference_role":
         ConferenceRole.CHAIR if m == members[k % 2] else ConferenceRole.MEMBER, "added_at": now}
        for k, c in enumerate(conf_ids) for m in members if m != members[0] or k % 2 == 0])
    cases = []
    for n in range(n_cases):
        cond, cond2 = rng.sample(CONDITIONS, 2)
        cases.append({
            "patient_ref": f"BEN-{n:06d}", "age": rng.randint(25, 90), "sex": "female",
            "urgency": "routine", "eases": "", "worsens": "", "created_by_id": coordinator,
            "created_at": now - timedelta(days=rng.randint(1, 360)),
            "summary": f"{cond.capitalize()} at {rng.choice(LEVELS)} with {cond2}; "
                       f"{rng.choice(SIGNS)}. Symptoms for {rng.randint(2, 30)} months.",
            "question": f"Is surgery indicated for the {cond}, or should "
                        f"{rng.choice(TREATMENTS)[1]} continue?"})
    session.execute(insert(Case), cases)
    case_ids = list(session.scalars(select(Case.id).order_by(Case.id)))
    session.execute(insert(CareEntry), [
        {"case_id": c, "position": p, "kind": kind, "description": text,
         "started_on": date.today() - timedelta(days=200 - 60 * p), "ended_on": None,
         "response": "unchanged", "notes": ""}
        for c in case_ids for p, (kind, text) in enumerate(rng.sample(TREATMENTS, 2))])
    items, revisions, measures, attendance = [], [], [], []
    for n, case_id in enumerate(case_ids):
        conf_id = conf_ids[n % len(conf_ids)]
        start = confs[n % len(confs)]["starts_at"]
        decided = rng.random() < 0.6
        items.append({"conference_id": conf_id, "case_id": case_id, "position": n // 50,
                      "planned_minutes": 10, "status": ItemStatus.DECIDED if decided
                      else ItemStatus.DEFERRED, "started_at": start,
                      "ended_at": start + timedelta(minutes=rng.randint(5, 20))})
    session.execute(insert(AgendaItem), items)
    item_ids = list(session.scalars(select(AgendaItem.id).order_by(AgendaItem.id)))
    for item, item_id in zip(items, item_ids, strict=True):
        attendance += [{"agenda_item_id": item_id, "user_id": m, "first_seen_at": now,
                        "last_seen_at": now} for m in members[:3]]
        if item["status"] is ItemStatus.DECIDED:
            revisions.append({
                "agenda_item_id": item_id, "case_id": item["case_id"], "revision": 1,
                "version": 2, "outcome": rng.choice(OUTCOMES),
                "rationale": f"Imaging concordant with the {rng.choice(CONDITIONS)}.",
                "plan": "Review in clinic.", "follow_up_weeks": 0,
                "responsible_clinician_id": None, "present_user_ids": members[:3],
                "dissent": [], "signed_by_id": members[0],
                "signed_at": item["started_at"] + timedelta(minutes=15), "present_by_hand": []})
        for t in range(3):  # 30,000 measures for 10,000 cases
            measures.append({"case_id": item["case_id"], "instrument": "odi",
                             "timepoint": "baseline" if t == 0 else None,
                             "collected_on": date.today() - timedelta(days=300 - 100 * t),
                             "answers": None, "score_tenths": rng.randint(100, 700),
                             "answered": 10, "recorded_at": now})
    session.execute(insert(Attendance), attendance)
    session.execute(insert(DecisionRevision), revisions)
    session.execute(insert(OutcomeMeasure), measures)
    session.commit()
    ensure_indexed(session)
    session.commit()
    return coordinator, members[0], case_ids


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def measure(url: str, label: str, n_cases: int) -> list[tuple[str, str, float, float]]:
    engine = make_engine(url)
    upgrade(engine)
    rows = []
    with Session(engine) as session:
        started = time.perf_counter()
        coordinator_id, member_id, case_ids = generate(session, n_cases)
        print(f"{label}: generated {n_cases} cases in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        coordinator = session.get(User, coordinator_id)
        member = session.get(User, member_id)
        assert coordinator is not None and member is not None
        rng = random.Random(3)
        queries = [" ".join(rng.sample(["stenosis", "claudication", "radiculopathy", "L4-5",
                                        "foot drop", "injection", "surgery", "myelopathy",
                                        "scoliosis", "sciatica", "facet"], 2))
                   for _ in range(200)]
        it = iter(queries * 10)
        picks = iter([rng.choice(case_ids) for _ in range(2000)])
        rows.append((label, "lookup one case by id (baseline)",
                     *timed(lambda: session.get(Case, next(picks)) and session.expunge_all(),
                            200)))
        rows.append((label, "search, coordinator (no filter)", *timed(
            lambda: search.search(session, viewer=coordinator, query=next(it)), 200)))
        rows.append((label, "search, member (filtered in query)", *timed(
            lambda: search.search(session, viewer=member, query=next(it)), 200)))
        rows.append((label, "similar decided cases (5)", *timed(
            lambda: search.similar(session, viewer=coordinator, case_id=next(picks)), 50)))
        year = date.today() - timedelta(days=365)
        rows.append((label, "analytics, one year", *timed(
            lambda: analytics.report(session, actor=coordinator, start=year,
                                     end=date.today()), 5)))
    engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results += measure(f"sqlite:///{tmp}/bench.db", "sqlite", args.cases)
        else:
            pg = PostgresDatabases()
            try:
                results += measure(pg.empty(), "postgresql", args.cases)
            finally:
                pg.close()
    print(f"\n{args.cases} cases, {3 * args.cases} outcome measures\n")
    print("| database | query | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for label, what, p50, p95 in results:
        print(f"| {label} | {what} | {p50:.2f} | {p95:.2f} |")


if __name__ == "__main__":
    main()
