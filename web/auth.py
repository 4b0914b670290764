"""Who is asking: the session cookie (browsers), a bearer token (API), a guest link.

Browsers carry a signed session cookie holding ``user_id`` and a CSRF token;
every state-changing form or cookie-authenticated API write must echo that
token. Bearer-token requests are not exposed to CSRF (a browser never adds the
header on its own) and skip the check.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import threading
from typing import Any
from urllib.parse import urlencode

import anyio
import anyio.to_thread
from sqlmodel import Session
from starlette.requests import HTTPConnection, Request

from conference.errors import NotAuthenticated, PermissionDenied, TooManyRequests
from conference.signin import LOCKOUT, delay_after, may_check
from storage import guest_links, throttle, users
from storage.clock import utcnow
from storage.engine import session_scope
from storage.passwords import hash_password, verify_password
from storage.tables import AgendaItem, GuestLink, User
from web.tokens import GuestGrant, TokenSigner

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Verifying against a real hash when the email is unknown keeps the response
# time the same, so timing does not reveal who has an account.
_DUMMY_HASH = hash_password("not a real password, only for timing")
# Argon2 is CPU-bound by design: hashes run on all cores but one at most, so
# a flood of sign-ins queues here instead of starving the event loop (which
# forwards the rooms' media) of CPU.
_HASHING = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) - 1))
# Sign-ins get worker threads of their own (a few: hashing is capped above anyway),
# so a flood of them queues on the loop, holding nothing, and never occupies the
# threads every other request needs (storage/engine.py sizes the pool for both).
SIGN_IN_THREADS = 4
_SIGN_IN_LIMITER = anyio.CapacityLimiter(SIGN_IN_THREADS)


def signer(conn: HTTPConnection) -> TokenSigner:
    value = conn.app.state.signer
    assert isinstance(value, TokenSigner)
    return value


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def session_user_id(conn: HTTPConnection) -> tuple[int, int] | None:
    """The signed-in person's id and the credential generation of their session."""
    value = conn.session.get("user_id") if "session" in conn.scope else None
    if not isinstance(value, int):
        return None
    generation = conn.session.get("gen", 0)
    return value, generation if isinstance(generation, int) else -1


def credential_holder(session: Session, user_id: int, generation: int) -> User | None:
    """The person a cookie or token names, if it still counts: the account exists,
    is active, and its credentials were not revoked since it was issued."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.credential_generation != generation:
        return None
    return user


def optional_user(conn: HTTPConnection, session: Session) -> User | None:
    """The signed-in person, or None. A bad bearer token is an error, not anonymity;
    a cookie or token issued before the person's credentials were revoked (sign-out,
    a new password, deactivation, "sign out everywhere") no longer counts."""
    token = bearer_token(conn)
    claim = signer(conn).read_api(token) if token else session_user_id(conn)
    if claim is None:
        return None
    user = credential_holder(session, *claim)
    if user is None:
        if token:
            raise NotAuthenticated("This API token is no longer valid: sign in again.")
        conn.session.clear()
        return None
    return user


def require_user(conn: HTTPConnection, session: Session) -> User:
    user = optional_user(conn, session)
    if user is None:
        raise NotAuthenticated("Sign in first.")
    return user


def public_base(conn: HTTPConnection) -> str:
    """The site's address for links that leave it (guest and patient links, calendars,
    invitations): CASEBRIDGE_PUBLIC_URL, or else the address this request came to."""
    configured: str | None = conn.app.state.settings.public_url
    return configured or str(conn.base_url).rstrip("/")


def guest_link_url(conn: HTTPConnection, session: Session, link: GuestLink, token: str) -> str:
    """The absolute address a guest opens: the case page of the link's agenda item
    (absolute, so it can be pasted into an e-mail as it is)."""
    case_id = session.get(AgendaItem, link.agenda_item_id).case_id  # type: ignore[union-attr]
    return f"{public_base(conn)}/cases/{case_id}?{urlencode({'token': token})}"


def guest_link(conn: HTTPConnection, session: Session, token: str) -> GuestGrant:
    """What a guest link's token grants, if its stored link still works (not revoked,
    not expired); :class:`NotAuthenticated` saying why not."""
    grant = signer(conn).read_guest(token)
    guest_links.active_link(session, link_id=grant.link_id, conference_id=grant.conference_id,
                            item_id=grant.item_id)
    return grant


def csrf_token(conn: HTTPConnection) -> str:
    token = conn.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        conn.session["csrf"] = token
    return token


def check_csrf(request: Request, submitted: Any) -> None:
    """Refuse a cookie-authenticated write whose token does not match the session's."""
    if bearer_token(request):
        return
    expected = request.session.get("csrf")
    given = submitted if isinstance(submitted, str) else request.headers.get(CSRF_HEADER, "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, given or ""):
        raise PermissionDenied("The form has expired or did not come from this site; "
                               "reload the page and try again.", code="csrf_failed")


async def authenticate(conn: HTTPConnection, email: str, password: str) -> User:
    """Check a password, slowing down and locking out repeated failures.

    The database work and Argon2 (~0.1 s of CPU by design) run in a worker thread
    with their own short session; the slow-down after a failure is awaited with no
    session and no connection held, so a flood of bad sign-ins can neither empty
    the connection pool nor stall the event loop that forwards the rooms' media.
    """
    user, delay = await anyio.to_thread.run_sync(_check_password, conn, email, password,
                                                 limiter=_SIGN_IN_LIMITER)
    if user is None:
        await asyncio.sleep(delay)
        raise NotAuthenticated("That email and password do not match.")
    return user


def client_address(conn: HTTPConnection) -> str:
    """Where the attempt comes from (behind a proxy, uvicorn reads X-Forwarded-For
    from the addresses it is told to trust: loopback by default)."""
    return conn.client.host if conn.client else "unknown"


def _check_password(conn: HTTPConnection, email: str, password: str) -> tuple[User | None, float]:
    """The person if the password is right; otherwise None and how long to wait.

    The attempt is counted (committed) before its password is checked, so parallel
    guesses each see their own count; no connection is held while Argon2 runs. An
    unknown address is counted, hashed, slowed and refused exactly like a known one.
    """
    now, address = utcnow(), client_address(conn)
    engine = conn.app.state.engine
    with session_scope(engine) as session:
        attempts = throttle.count_attempt(session, email=email, address=address, now=now)
        user = users.find_by_email(session, email) if may_check(attempts) else None
    if not may_check(attempts):
        raise TooManyRequests(
            f"Too many failed sign-ins from here: wait {LOCKOUT.seconds // 60} minutes "
            "before trying again.", retry_after=LOCKOUT.seconds)
    with _HASHING:
        ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        # For the security log: which account (never the password, nor an unknown
        # address someone typed, which may be another person's data).
        log.warning("failed sign-in for %s from %s",
                    f"user {user.id}" if user else "an unknown email", address)
        return None, delay_after(attempts.account)
    with session_scope(engine) as session:
        throttle.forgive(session, email=email, address=address)
        throttle.forget_stale(session, now=now)
        users.record_sign_in(session, user, now=now)
    return user, 0.0


def sign_in(request: Request, user: User) -> None:
    # A fresh session on sign-in, so a planted session id is worthless.
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["gen"] = user.credential_generation
    request.session["csrf"] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    request.session.clear()
