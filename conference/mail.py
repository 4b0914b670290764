"""The rules of mail: when a mail that could not be sent is tried again, when Casebridge
gives up on it, and which answers of a mail server are final.

Mail leaves the hospital's control, so it never carries clinical text: what happened,
the pseudonymous patient reference, and a link to the page (see
``conference.announcements``). These rules know nothing of SMTP libraries or tables.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

# Where links in mail point when CASEBRIDGE_PUBLIC_URL is not set.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_SENDER = "casebridge@localhost"

# Retries: 20 s, 1 min, 3 min, 9 min, 27 min, then hourly; after MAX_ATTEMPTS tries
# (about a day of a mail server that is down) the mail is marked failed for an admin
# to look at and retry by hand.
FIRST_RETRY = timedelta(seconds=20)
LONGEST_WAIT = timedelta(hours=1)
MAX_ATTEMPTS = 30
# A sender holds a claimed mail this long; one that died mid-send releases it then.
CLAIM_LEASE = timedelta(minutes=2)


class MailStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by one sender, until its lease runs out
    SENT = "sent"
    FAILED = "failed"  # refused for good, or given up on: an admin may retry it


class MailKind(StrEnum):
    NOTICE = "notice"  # something happened: the words of a notification
    INVITATION = "invitation"  # a calendar request (new or updated conference)
    CANCELLATION = "cancellation"  # a calendar cancel
    QUESTIONNAIRE = "questionnaire"  # a patient's questionnaire link, for the referrer to pass on


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try (1 for the first)."""
    wait: timedelta = FIRST_RETRY * 3 ** min(max(attempts - 1, 0), 8)  # 8: past the cap
    return min(wait, LONGEST_WAIT)


def gives_up(attempts: int) -> bool:
    """After this many tries that failed for passing reasons, the mail is failed."""
    return attempts >= MAX_ATTEMPTS


def is_permanent(code: int | None) -> bool:
    """A 5xx answer refuses this mail for good (an unknown address, a policy): trying
    again would be refused the same way. 4xx and lost connections are passing."""
    return code is not None and 500 <= code < 600
