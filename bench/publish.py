"""Publishing a conference with 50 members (issue 10): its 50 invitation mails are
committed in the publishing transaction, and the request's time is reported beside
a publish without mail, in the same run.

Each round makes a fresh draft conference with 50 members and times
``PUT /api/v1/conferences/{id}/status {"status": "published"}`` through the whole
app (TestClient, no SMTP server: the mails stay in the outbox). The baseline rounds
do the same with the invitation step switched off. Rounds alternate, so a noisy
neighbour slows both alike.

    python3 bench/publish.py                      # PostgreSQL at 127.0.0.1:5432
    python3 bench/publish.py --database sqlite
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session, func, select  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from conference.people import ConferenceRole, Role, Specialty  # noqa: E402
from storage import conferences, invitations, users  # noqa: E402
from storage.engine import make_engine, session_scope  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.tables import OutboxMail  # noqa: E402
from tests.databases import PostgresDatabases  # noqa: E402
from web.app import create_app  # noqa: E402
from web.settings import Settings  # noqa: E402

MEMBERS = 50
PASSWORD = "benchmark-password-1"


def _people(url: str) -> tuple[int, list[int]]:
    with session_scope(make_engine(url)) as session:
        coord = users.create_user(session, email="coord@bench.example", name="Coordinator",
                                  role=Role.COORDINATOR, password=PASSWORD)
        ids = [users.create_user(session, email=f"m{n}@bench.example", name=f"Member {n}",
                                 role=Role.SPECIALIST, specialty=Specialty.NEUROSURGERY,
                                 password=PASSWORD).id or 0 for n in range(MEMBERS)]
        return coord.id or 0, ids


def _draft(url: str, coordinator_id: int, member_ids: list[int], n: int) -> int:
    with session_scope(make_engine(url)) as session:
        actor = users.get_user(session, coordinator_id)
        conf = conferences.create_conference(
            session, actor=actor, title=f"Board {n}", chair_id=member_ids[0],
            starts_at=datetime.now(UTC) + timedelta(days=7), duration_minutes=60)
        session.flush()
        for user_id in member_ids[1:]:
            conferences.add_member(session, actor=actor, conference_id=conf.id or 0,
                                   user_id=user_id, conference_role=ConferenceRole.MEMBER)
        return conf.id or 0


def _mails(url: str) -> int:
    with Session(make_engine(url)) as session:
        return int(session.exec(select(func.count()).select_from(OutboxMail)).one())


def run(url: str, rounds: int) -> None:
    upgrade(make_engine(url))
    coordinator, members = _people(url)
    app = create_app(Settings(database_url=url, secret_key="bench-secret"))
    timings: dict[str, list[float]] = {"with mail": [], "without mail": []}
    with TestClient(app) as client:
        token = client.post("/api/v1/auth/token", json={
            "email": "coord@bench.example", "password": PASSWORD}).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        for n in range(rounds * 2):
            label = "with mail" if n % 2 == 0 else "without mail"
            conf_id = _draft(url, coordinator, members, n)
            before = _mails(url)
            patch = mock.patch.object(invitations, "mail", return_value=[]) \
                if label == "without mail" else contextlib.nullcontext()
            with patch:
                start = time.perf_counter()
                answer = client.put(f"/api/v1/conferences/{conf_id}/status", headers=headers,
                                    json={"status": "published"})
                took = time.perf_counter() - start
            assert answer.status_code == 200, answer.text
            added = _mails(url) - before
            assert added == (MEMBERS if label == "with mail" else 0), added
            if n >= 2:  # the first pair warms the caches
                timings[label].append(took)
    app.state.engine.dispose()
    for label, values in timings.items():
        ms = sorted(v * 1000 for v in values)
        print(f"publish, {MEMBERS} members, {label:<13} median {statistics.median(ms):7.1f} ms"
              f"   p95 {ms[int(0.95 * (len(ms) - 1))]:7.1f} ms   max {ms[-1]:7.1f} ms"
              f"   (n={len(ms)})")
    print(f"each publish with mail committed {MEMBERS} outbox rows in its own transaction")


def main() -> None:
    logging.getLogger("web").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if args.database == "postgresql":
        pg = PostgresDatabases()
        try:
            run(pg.new(), args.rounds)
        finally:
            pg.close()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/publish.db", args.rounds)


if __name__ == "__main__":
    main()
