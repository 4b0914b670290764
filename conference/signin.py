"""Slowing down and stopping repeated failed sign-ins (OWASP ASVS 2.2.1).

Failures are counted twice: per (account, client address) and per address alone.
An attacker's failures thus slow and stop the attacker's address, never the owner
signing in from elsewhere, and guessing one password across many accounts from
one address is stopped too. An address nobody holds an account for is counted,
slowed and refused exactly like an existing one, so the answers reveal nothing.
Each attempt is counted *before* its password is checked (atomically, in the
database), so parallel guesses cannot slip in between a check and its count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from conference.errors import InvalidInput, NotAuthenticated, gather

FREE_ATTEMPTS = 2
MAX_FAILURES = 5            # per (account, address)
ADDRESS_MAX_FAILURES = 30   # per address, across accounts (a shared hospital NAT types too)
LOCKOUT = timedelta(minutes=15)
MAX_DELAY_SECONDS = 4.0


def check_filled(*, email: str, password: str) -> None:
    """Both fields typed. A blank one is said as such (both at once), not as a wrong
    password, and is no attempt: nothing is counted or slowed for it."""

    def typed(value: str, field: str, message: str) -> None:
        if not value.strip():
            raise InvalidInput(message, field=field)

    gather(lambda: typed(email, "email", "Enter your email address."),
           lambda: typed(password, "password", "Enter your password."))


@dataclass(frozen=True)
class Attempts:
    """How many failed attempts, this one included, fall in the current window."""

    account: int   # by this address on this account
    address: int   # by this address on any account


def delay_after(failures: int) -> float:
    """Seconds to wait before answering, growing with each failure past the free ones."""
    if failures <= FREE_ATTEMPTS:
        return 0.0
    return min(MAX_DELAY_SECONDS, 0.5 * 2.0 ** (failures - FREE_ATTEMPTS - 1))


def may_check(attempts: Attempts) -> bool:
    """Is this attempt's password checked at all, or refused unseen?"""
    return attempts.account <= MAX_FAILURES and attempts.address <= ADDRESS_MAX_FAILURES


def window_start(now: datetime) -> datetime:
    """Failures before this are forgotten: a count whose last failure is older starts
    afresh. A refused attempt counts too, so hammering keeps the address refused."""
    return now - LOCKOUT


def verified_email(claims: Mapping[str, Any]) -> str:
    """The address a single sign-on vouches for: only one the identity provider says
    it verified (``email_verified`` true), since anyone may type any address into an
    account at some providers. Raises :class:`NotAuthenticated` with what to do."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise NotAuthenticated("Your hospital sign-in did not share an e-mail address, so "
                               "Casebridge cannot tell which account is yours. Sign in "
                               "with your password, or ask IT to release the e-mail claim.")
    if claims.get("email_verified") is not True:
        raise NotAuthenticated(f"Your hospital sign-in has not verified {email}. Casebridge "
                               "accepts only a verified address: sign in with your password, "
                               "or ask IT to verify it.")
    return email.strip().lower()
