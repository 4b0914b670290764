"""The outbox keeps its promises against a real SMTP server: a server that is down or
busy loses nothing, a refused address fails for good with the server's words, a sender
killed mid-send loses nothing, and two senders on one database send each mail once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from conference.mail import CLAIM_LEASE, FIRST_RETRY, MailKind, MailStatus
from conference.people import Role
from storage import outbox
from storage.clock import utcnow
from storage.engine import make_engine, session_scope
from storage.tables import OutboxMail
from tests import factories
from tests.factories import found
from tests.mailbox import smtp_server, wait_until
from tests.ports import free_port
from tests.web.conftest import SECRET
from web.app import create_app
from web.mailer import MailSender, smtp_transport
from web.settings import Settings, SmtpServer

BOTH_BACKENDS = True
ROOT = Path(__file__).resolve().parents[3]


def _queue(engine: Engine, count: int, *, to: str | None = None) -> list[int]:
    with session_scope(engine) as session:
        person = factories.user(session, Role.COORDINATOR)
        if to:
            person.email = to
        rows = [outbox.enqueue(session, to=person, kind=MailKind.NOTICE,
                               subject=f"Notice {n}", text="Something happened.",
                               link="/notifications") for n in range(count)]
        session.flush()
        return [factories.id_of(r) for r in rows]


def _row(engine: Engine, mail_id: int) -> OutboxMail:
    with Session(engine) as session:
        return factories.found(session.get(OutboxMail, mail_id))


def _sender(engine: Engine, port: int, clock: Callable[[], datetime] = utcnow) -> MailSender:
    return MailSender(engine, transport=smtp_transport(
        SmtpServer("127.0.0.1", port, "plain")), sender="casebridge@hospital.example",
        base_url="https://casebridge.hospital.example", clock=clock)


async def test_a_server_that_is_down_loses_nothing(engine: Engine) -> None:
    (mail_id,) = _queue(engine, 1)
    port = free_port()  # nothing listens here yet
    now = utcnow()
    sender = _sender(engine, port, clock=lambda: now)
    assert await sender.send_due() == 1
    row = _row(engine, mail_id)
    assert row.status is MailStatus.PENDING and row.attempts == 1
    assert "ConnectionRefusedError" in (row.last_error or "")
    assert row.next_attempt_at == now + FIRST_RETRY <= now + timedelta(seconds=30)
    assert await sender.send_due() == 0  # not due yet: back-off
    with smtp_server(port=port) as (box, _):
        later = _sender(engine, port, clock=lambda: now + FIRST_RETRY)
        assert await later.send_due() == 1
        (message,) = box.wait_for(1)
    row = _row(engine, mail_id)
    assert row.status is MailStatus.SENT and row.attempts == 2 and row.last_error is None
    assert message["Message-ID"] == f"<{row.message_key}@hospital.example>"


async def test_a_busy_server_is_tried_again_and_a_refused_address_fails_for_good(
        engine: Engine) -> None:
    (busy,) = _queue(engine, 1)
    (refused,) = _queue(engine, 1, to="nobody@hospital.example")
    with smtp_server() as (box, port):
        box.deferring = True
        box.refused.add("nobody@hospital.example")
        now = utcnow()
        assert await _sender(engine, port, clock=lambda: now).send_due() == 2
        row = _row(engine, busy)
        assert row.status is MailStatus.PENDING and row.last_error is not None
        assert row.last_error.startswith("451 4.3.0 Mailbox busy")
        failed = _row(engine, refused)
        assert failed.status is MailStatus.FAILED and failed.attempts == 1
        assert failed.last_error == "550 5.1.1 No such mailbox here"
        # Never again by itself, however much later.
        box.deferring = False
        much_later = _sender(engine, port, clock=lambda: now + timedelta(days=30))
        assert await much_later.send_due() == 1
        assert [m["Subject"] for m in box.wait_for(1)] == ["Notice 0"]
        assert _row(engine, refused).status is MailStatus.FAILED


async def test_passing_failures_give_up_in_the_end(engine: Engine) -> None:
    (mail_id,) = _queue(engine, 1)
    port = free_port()
    start = utcnow()
    for hour in range(40):
        at = start + timedelta(hours=hour)
        await _sender(engine, port, clock=lambda at=at: at).send_due()  # type: ignore[misc]
    row = _row(engine, mail_id)
    assert row.status is MailStatus.FAILED and row.attempts == 30
    assert (row.last_error or "").startswith("Gave up after 30 attempts")


def test_a_sender_killed_mid_send_loses_nothing(engine: Engine, database_url: str,
                                                tmp_path: Path) -> None:
    (mail_id,) = _queue(engine, 1)
    with smtp_server() as (box, port):
        box.stall.set()  # the first DATA never gets its answer
        script = tmp_path / "sender.py"
        script.write_text(textwrap.dedent(f"""
            import asyncio
            from storage.engine import make_engine
            from web.mailer import MailSender, smtp_transport
            from web.settings import SmtpServer
            sender = MailSender(make_engine({database_url!r}),
                                transport=smtp_transport(SmtpServer("127.0.0.1", {port}, "plain")),
                                sender="casebridge@hospital.example", base_url="http://x")
            asyncio.run(sender.run())
        """))
        process = subprocess.Popen([sys.executable, str(script)], cwd=ROOT,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            wait_until(lambda: box.stalled is not None)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        row = _row(engine, mail_id)
        assert row.status is MailStatus.SENDING and row.attempts == 1
        box.stall.clear()
        # Another sender takes it once the dead one's claim has run out: same Message-ID.
        now = utcnow()
        early = asyncio.run(_sender(engine, port, clock=lambda: now).send_due())
        assert early == 0
        late = _sender(engine, port, clock=lambda: now + CLAIM_LEASE)
        assert asyncio.run(late.send_due()) == 1
        (message,) = box.wait_for(1)
        assert message["Message-ID"] == found(box.stalled)["Message-ID"]
        row = _row(engine, mail_id)
        assert row.status is MailStatus.SENT and row.attempts == 2


async def test_two_senders_on_one_database_send_each_mail_once(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(2)]
    try:
        ids = _queue(engines[0], 60)
        with smtp_server() as (box, port):
            senders = [_sender(e, port) for e in engines]
            tasks = [asyncio.create_task(s.run()) for s in senders]
            try:
                await asyncio.to_thread(box.wait_for, 60, 60.0)
                await asyncio.sleep(0.5)  # any duplicate would arrive by now
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            ids_seen = [m["Message-ID"] for m in box.messages]
            assert len(ids_seen) == 60 == len(set(ids_seen))
        with Session(engines[0]) as session:
            rows = session.exec(select(OutboxMail).where(OutboxMail.id.in_(ids))).all()  # type: ignore[union-attr]
            assert {r.status for r in rows} == {MailStatus.SENT}
            assert {r.attempts for r in rows} == {1}
    finally:
        for e in engines:
            e.dispose()


def test_only_a_failed_mail_is_retried_and_only_by_an_admin(engine: Engine) -> None:
    (mail_id,) = _queue(engine, 1)
    with session_scope(engine) as session:
        admin = factories.user(session, Role.ADMIN)
        other = factories.coordinator(session)
        from conference.errors import Conflict, PermissionDenied
        with pytest.raises(Conflict):
            outbox.retry(session, actor=admin, mail_id=mail_id)
        with pytest.raises(PermissionDenied):
            outbox.listing(session, actor=other)


async def test_a_mail_that_cannot_be_laid_out_fails_alone(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    broken, fine = _queue(engine, 2)
    with session_scope(engine) as session:
        row = found(session.get(OutboxMail, broken))
        row.kind, row.calendar = MailKind.INVITATION, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        session.add(row)
    # A layout bug that hits calendar mail only: the notice must still go.
    monkeypatch.setattr("web.mailer._METHODS", {})
    with smtp_server() as (box, port):
        assert await _sender(engine, port).send_due() == 1
        assert [m["Subject"] for m in box.wait_for(1)] == ["Notice 1"]
    failed = _row(engine, broken)
    assert failed.status is MailStatus.FAILED
    assert (failed.last_error or "").startswith("Casebridge could not lay this mail out")
    assert _row(engine, fine).status is MailStatus.SENT


def test_two_app_instances_send_each_mail_once(database_url: str) -> None:
    """Two whole apps on one database, each with the sender its lifespan starts."""
    with smtp_server() as (box, port):
        settings = Settings(database_url=database_url, secret_key=SECRET,
                            smtp=SmtpServer("127.0.0.1", port, "plain"))
        apps = [create_app(settings) for _ in range(2)]
        ids = _queue(apps[0].state.engine, 40)
        with TestClient(apps[0]), TestClient(apps[1]):
            box.wait_for(40, 60.0)
            wait_until(lambda: all(_row(apps[0].state.engine, i).status is MailStatus.SENT
                                   for i in ids))
        seen = [m["Message-ID"] for m in box.messages]
        assert len(seen) == 40 == len(set(seen))
        for app in apps:
            app.state.engine.dispose()
