"""The signed-in person's notifications."""

from __future__ import annotations

from storage import notifications
from storage.tables import Notification
from web.api.endpoint import Call, operation
from web.api.schemas import Empty
from web.api.views import NotificationView


def _view(row: Notification) -> NotificationView:
    return NotificationView(id=row.id or 0, kind=row.kind, text=row.text, link=row.link,
                            created_at=row.created_at, read=row.read_at is not None)


def my_notifications(call: Call[Empty]) -> list[NotificationView]:
    return [_view(n) for n in notifications.for_user(call.session, call.user)]


def mark_read(call: Call[Empty]) -> NotificationView:
    return _view(notifications.mark_read(call.session, user=call.user,
                                         notification_id=call.id()))


TAG = "notifications"
routes = [
    operation("GET", "/notifications", my_notifications, body=Empty, tag=TAG,
              response=NotificationView, many=True,
              summary="Your notifications, newest first"),
    operation("POST", "/notifications/{id:int}/read", mark_read, body=Empty, tag=TAG,
              response=NotificationView, optional_body=True,
              summary="Mark one of your notifications read"),
]
