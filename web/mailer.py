"""Sending the outbox: a task in the app's lifespan claims due mails, lays each out
(plain text and HTML from the templates in ``templates/mail``, an invitation's
calendar as a ``text/calendar`` part), and hands it to the SMTP server given by
CASEBRIDGE_SMTP_URL.

Each mail keeps one ``Message-ID`` (from its row) on every attempt. A server that
is down or answers 4xx: the mail is tried again after a back-off; a 5xx answer
refuses it for good and it is marked failed with the server's words. With no SMTP
server configured no sender runs and mail waits in the outbox, except in
``serve --demo``, which writes each mail to the log, labelled as not sent.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from conference.mail import MailKind, MailStatus, is_permanent
from storage import outbox
from storage.clock import utcnow
from storage.engine import session_scope
from storage.tables import OutboxMail
from web.background import in_thread
from web.settings import Settings, SmtpServer

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates" / "mail"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                   autoescape=select_autoescape(["html"]), keep_trailing_newline=True)
POLL_SECONDS = 2.0
BATCH = 20
SMTP_TIMEOUT_SECONDS = 30
_METHODS = {MailKind.INVITATION: "REQUEST", MailKind.CANCELLATION: "CANCEL"}


def compose(row: OutboxMail, *, sender: str, base_url: str) -> EmailMessage:
    """The mail as it is sent: the same headers (``Message-ID`` above all) each time."""
    domain = sender.rpartition("@")[2] or "casebridge.invalid"
    link = f"{base_url}{row.link}" if row.link.startswith("/") else row.link
    words = {"name": row.to_name, "text": row.text, "subject": row.subject, "link": link,
             "calendar": row.calendar is not None,
             "questionnaire": row.kind is MailKind.QUESTIONNAIRE,
             "preferences": f"{base_url}/notifications#mail"
             if row.kind is MailKind.NOTICE else ""}
    message = EmailMessage()
    message["From"] = Address("Casebridge", addr_spec=sender)
    message["To"] = Address(row.to_name, addr_spec=row.to_address)
    message["Subject"] = row.subject
    message["Message-ID"] = f"<{row.message_key}@{domain}>"
    message["Date"] = format_datetime(row.created_at)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_env.get_template("mail.txt").render(words))
    message.add_alternative(_env.get_template("mail.html").render(words), subtype="html")
    if row.calendar is not None:
        message.add_alternative(row.calendar, subtype="calendar",
                                params={"method": _METHODS[row.kind]})
    return message


def smtp_transport(server: SmtpServer, *,
                   context: ssl.SSLContext | None = None) -> Callable[[EmailMessage], None]:
    """Deliver one message to ``server`` (blocking: run it in a worker thread)."""

    def deliver(message: EmailMessage) -> None:
        tls = context or ssl.create_default_context()
        client: smtplib.SMTP
        if server.security == "tls":
            client = smtplib.SMTP_SSL(server.host, server.port, context=tls,
                                      timeout=SMTP_TIMEOUT_SECONDS)
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            client.ehlo()
            if server.security == "starttls":
                client.starttls(context=tls)
                client.ehlo()
            if server.username:
                client.login(server.username, server.password or "")
            refused = client.send_message(message)
            if refused:  # some recipients refused, others taken: we send to one only
                raise smtplib.SMTPRecipientsRefused(refused)

    return deliver


def log_transport(message: EmailMessage) -> None:
    """The demo's stand-in for a mail server: the mail, labelled, in the log."""
    body = message.get_body(preferencelist=("plain",))
    log.warning("DEMO MAIL, NOT SENT (no CASEBRIDGE_SMTP_URL): to %s, subject %r%s\n%s",
                message["To"], message["Subject"],
                ", with a calendar invitation" if any(
                    p.get_content_type() == "text/calendar" for p in message.walk()) else "",
                body.get_content() if body else "")


def failure(exc: Exception) -> tuple[str, bool]:
    """What went wrong, in words for the outbox page, and whether it is final."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, said = next(iter(exc.recipients.values()))
        text = said.decode(errors="replace") if isinstance(said, bytes) else str(said)
        return f"{code} {text}", is_permanent(code)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        # Not this mail's fault: the configuration's. Passing, so fixing it recovers.
        return f"The SMTP server refused Casebridge's credentials ({exc.smtp_code}).", False
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") \
            if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}", is_permanent(exc.smtp_code)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, False


@dataclass
class _Claimed:
    id: int
    message: EmailMessage


class MailSender:
    """Claims due mails and sends them, one at a time, until cancelled."""

    def __init__(self, engine: Engine, *, transport: Callable[[EmailMessage], None],
                 sender: str, base_url: str, clock: Callable[[], datetime] = utcnow,
                 poll_seconds: float = POLL_SECONDS,
                 on_result: Callable[[str], None] = lambda result: None) -> None:
        self.engine = engine
        self.transport = transport
        self.sender = sender
        self.base_url = base_url
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.on_result = on_result  # "sent", "retry" or "failed", for the metrics
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look at the outbox now rather than at the next poll."""
        self._wake.set()

    def _claim(self) -> list[_Claimed]:
        with session_scope(self.engine) as session:
            claimed = []
            for row in outbox.claim(session, limit=BATCH, now=self.clock()):
                try:
                    message = compose(row, sender=self.sender, base_url=self.base_url)
                except Exception as exc:  # one mail that cannot be laid out stops no other
                    log.exception("mail %s cannot be laid out", row.id)
                    outbox.mark_unsent(session, row.id or 0, permanent=True, now=self.clock(),
                                       error=f"Casebridge could not lay this mail out: {exc}")
                    self.on_result("failed")
                    continue
                claimed.append(_Claimed(row.id or 0, message))
            return claimed

    def _record(self, mail_id: int, error: Exception | None) -> None:
        with session_scope(self.engine) as session:
            if error is None:
                outbox.mark_sent(session, mail_id, now=self.clock())
                self.on_result("sent")
                return
            words, permanent = failure(error)
            row = outbox.mark_unsent(session, mail_id, words, permanent=permanent,
                                     now=self.clock())
            if row is not None:
                self.on_result("failed" if row.status is MailStatus.FAILED else "retry")
                log.warning("mail %s to %s not sent (%s): %s", mail_id, row.to_address,
                            row.status.value, words)

    async def send_due(self) -> int:
        """Send what is due now; how many mails were tried."""
        claimed = await in_thread(self._claim)
        for mail in claimed:
            try:
                await in_thread(self.transport, mail.message)
            except Exception as exc:  # every failure is recorded on the mail
                await in_thread(self._record, mail.id, exc)
            else:
                await in_thread(self._record, mail.id, None)
        return len(claimed)

    async def run(self) -> None:
        while True:
            try:
                tried = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database outage must not end the sender
                log.exception("the mail sender failed; trying again shortly")
                tried = 0
            if tried < BATCH:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                except TimeoutError:
                    pass


def nudge(app: Starlette) -> None:
    """New mail is committed: let this instance's sender look now (callable from any
    thread). Without it the sender still finds the mail at its next poll."""
    mailer: MailSender | None = getattr(app.state, "mailer", None)
    loop: asyncio.AbstractEventLoop | None = getattr(app.state, "loop", None)
    if mailer is not None and loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(mailer.wake)


def sender_for(app: Starlette, settings: Settings) -> MailSender | None:
    """The app's sender: SMTP when configured, the log in the demo, else none."""
    if settings.smtp is not None:
        transport = smtp_transport(settings.smtp)
    elif settings.mail_to_log:
        transport = log_transport
    else:
        return None
    return MailSender(app.state.engine, transport=transport, sender=settings.mail_from,
                      base_url=settings.link_base, on_result=app.state.metrics.mail_result)
