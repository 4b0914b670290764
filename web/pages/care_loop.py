"""The dashboard's buttons for the care loop: a follow-up onto an agenda, a task done."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from conference.errors import InvalidInput
from storage import care_loop
from web.pages.action import Posted, action
from web.pages.common import flash, see_other


def _schedule(call: Posted[Any]) -> Response:
    conference, minutes = call.form.text("conference_id"), call.form.text("planned_minutes")
    if not conference.isdigit():
        raise InvalidInput("Choose a conference.", field="conference_id")
    if not minutes.isdigit() or not 1 <= int(minutes) <= 240:
        raise InvalidInput("Planned minutes are 1 to 240.", field="planned_minutes")
    care_loop.schedule(call.session, actor=call.user, follow_up_id=call.id(),
                       conference_id=int(conference), planned_minutes=int(minutes))
    flash(call.request, "The case is back on the agenda.")
    return see_other("/")


def _done(call: Posted[Any]) -> Response:
    handoff = care_loop.update_handoff(call.session, actor=call.user, handoff_id=call.id(),
                                       done=call.form.text("done") == "1")
    flash(call.request, "Task marked done." if handoff.done_at else "Task reopened.")
    back = call.request.headers.get("referer", "")
    return see_other(f"/cases/{handoff.case_id}#handoffs" if "/cases/" in back else "/")


routes = [
    Route("/follow-ups/{id:int}/schedule", action(_schedule), methods=["POST"]),
    Route("/handoffs/{id:int}/done", action(_done), methods=["POST"]),
]
