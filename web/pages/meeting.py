"""Where a guest lands when the meeting ends for them: left, sent away or withdrawn.

A guest has no account, so the sign-in page is the wrong place to send them; this
page needs no one signed in and shows nothing about any case or conference.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from web.templating import render

ENDINGS = {
    "left": ("You have left the meeting",
             "Thank you for joining. The panel's decision reaches the referring clinician "
             "as a signed letter."),
    "revoked": ("The meeting has ended for you",
                "The link you joined with has been withdrawn or has expired. If you still "
                "need to take part, ask the coordinator who sent it for a new one."),
    "closed": ("The meeting has ended for you",
               "This meeting is no longer open to you. The panel's decision reaches the "
               "referring clinician as a signed letter."),
}


async def meeting_ended(request: Request) -> Response:
    title, text = ENDINGS.get(request.query_params.get("reason", ""), ENDINGS["closed"])
    return render(request, "pages/meeting_ended.html", {"title": title, "text": text})


routes = [Route("/meeting-ended", meeting_ended)]
