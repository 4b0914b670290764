"""A real SMTP server for tests (aiosmtpd, in a thread of the test process) that keeps
what it is given, and can refuse, defer or stall on request."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.ports import free_port


class Mailbox:
    """The aiosmtpd handler: every accepted message, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()  # RCPT answered 550
        self.deferring = False  # DATA answered 451
        self.stall = threading.Event()  # set: DATA waits until released
        self.release = threading.Event()
        self.stalled: EmailMessage | None = None  # the message held by ``stall``
        self._lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall.is_set():
            # Hold this one without an answer, as if the line went quiet.
            held = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(held, EmailMessage)
            self.stalled = held
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "421 4.4.2 Closing"
        if self.deferring:
            return "451 4.3.0 Mailbox busy, try again later"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        """The first ``count`` messages, once they have all arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.messages)} mails arrived, {count} expected: "
                             f"{[m['Subject'] for m in self.messages]}")

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


@contextmanager
def smtp_server(port: int | None = None, **controller: Any) -> Iterator[tuple[Mailbox, int]]:
    """A running server on a loopback port (a free one by default): ``(mailbox, port)``."""
    box = Mailbox()
    port = port or free_port()
    server = Controller(box, hostname="127.0.0.1", port=port, **controller)
    server.start()
    try:
        yield box, port
    finally:
        box.release.set()
        server.stop()


def body_text(message: EmailMessage) -> str:
    """Every text part of a mail, decoded, for looking for what must not be there."""
    return "\n".join(part.get_content() for part in message.walk()
                     if part.get_content_maintype() == "text")


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("gave up waiting")
