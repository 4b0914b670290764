"""The signed-in person's notifications: what happened, and a way to it."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from storage import notifications
from web.pages.action import Posted, Visit, action, view
from web.pages.common import page, see_other


@view
def inbox(visit: Visit) -> Response:
    rows = notifications.for_user(visit.session, visit.user)
    return page(visit.request, "pages/notifications.html", {"notifications": rows})


def _open(call: Posted[Any]) -> Response:
    """Mark it read and go where it points (always a page of ours)."""
    row = notifications.mark_read(call.session, user=call.user, notification_id=call.id())
    return see_other(row.link if row.link.startswith("/") else "/notifications")


open_notification = action(_open)

routes = [
    Route("/notifications", inbox),
    Route("/notifications/{id:int}/open", open_notification, methods=["POST"]),
]
