from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, col, select
from starlette.applications import Starlette

from conference.mail import MailStatus
from storage.tables import OutboxMail
from tests.mailbox import Mailbox, smtp_server, wait_until
from tests.web.api.conftest import auth, conference_id, people  # noqa: F401
from tests.web.conftest import SECRET
from web.settings import Settings, SmtpServer

PUBLIC = "https://casebridge.hospital.example"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def mailbox(smtp: tuple[Mailbox, int]) -> Mailbox:
    return smtp[0]


@pytest.fixture
def settings(database_url: str, smtp: tuple[Mailbox, int]) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, public_url=PUBLIC,
                    smtp=SmtpServer(host="127.0.0.1", port=smtp[1], security="plain"),
                    mail_from="casebridge@hospital.example")


def outbox_rows(app: Starlette) -> list[OutboxMail]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(OutboxMail).order_by(col(OutboxMail.id))))


def settled(app: Starlette, mailbox: Mailbox) -> None:
    """Wait until the outbox has nothing left to send, then forget what arrived."""
    wait_until(lambda: all(r.status in (MailStatus.SENT, MailStatus.FAILED)
                           for r in outbox_rows(app)))
    mailbox.messages.clear()
