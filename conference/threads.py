"""Case threads: what a line of a thread may hold, and who hears of it.

A thread is where the team talks about a case between meetings (a physical therapist
noticing a plateau asks the pain specialist) and, in the live room, the chat typed
beside the video. Lines are plain text: the pages escape them, and only https links
are made clickable. Who may write is :func:`conference.permissions.on_care_team`.
"""

from __future__ import annotations

from collections.abc import Iterable

from conference.errors import InvalidInput
from conference.text import refuse_nul

MAX_BODY = 4000


def check_body(body: str) -> str:
    """The line as stored: surrounding blank space dropped, 1-4000 characters."""
    refuse_nul(body, field="body")
    text = body.strip()
    if not text:
        raise InvalidInput("Write something first: the message is empty.", field="body")
    if len(text) > MAX_BODY:
        raise InvalidInput(f"A message holds at most {MAX_BODY} characters "
                           f"(this one has {len(text)}).", field="body")
    return text


def check_mentions(mentions: Iterable[int], *, may_open: Iterable[int]) -> list[int]:
    """The people mentioned, once each in the order given; refused if any of them
    may not open the case (a mention would show them it exists)."""
    wanted = list(dict.fromkeys(mentions))
    allowed = set(may_open)
    outside = [m for m in wanted if m not in allowed]
    if outside:
        who = ", ".join(str(m) for m in outside)
        raise InvalidInput(f"Only people who may open this case can be mentioned "
                           f"(not {who}).", field="mentions")
    return wanted
