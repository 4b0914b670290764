"""The mail outbox (admins): what was sent, what waits, what failed and why; and each
person's choice to get notices by mail."""

from __future__ import annotations

from storage import outbox, users
from storage.tables import OutboxMail
from web.api.body import read_query
from web.api.endpoint import Call, operation
from web.api.schemas import Empty, MailSettingIn, OutboxQuery
from web.api.views import MailSettingView, OutboxMailView
from web.mailer import nudge


def _view(row: OutboxMail) -> OutboxMailView:
    return OutboxMailView(id=row.id or 0, kind=row.kind, to=row.to_address,
                          subject=row.subject, link=row.link, status=row.status,
                          attempts=row.attempts, last_error=row.last_error,
                          created_at=row.created_at, next_attempt_at=row.next_attempt_at,
                          sent_at=row.sent_at)


def list_outbox(call: Call[Empty]) -> list[OutboxMailView]:
    query = read_query(call.request.query_params, OutboxQuery)
    return [_view(r) for r in outbox.listing(call.session, actor=call.user,
                                             status=query.status)]


def retry(call: Call[Empty]) -> OutboxMailView:
    row = outbox.retry(call.session, actor=call.user, mail_id=call.id())
    nudge(call.request.app)
    return _view(row)


def my_mail(call: Call[Empty]) -> MailSettingView:
    return MailSettingView(mail_notices=call.user.mail_notices)


def set_my_mail(call: Call[MailSettingIn]) -> MailSettingView:
    user = users.set_mail_notices(call.session, call.user, call.body.mail_notices)
    return MailSettingView(mail_notices=user.mail_notices)


routes = [
    operation("GET", "/outbox", list_outbox, body=Empty, query=OutboxQuery, tag="mail",
              response=OutboxMailView, many=True,
              summary="The mail outbox, newest first (admins); ?status=pending|sent|failed"),
    operation("POST", "/outbox/{id:int}/retry", retry, body=Empty, optional_body=True,
              tag="mail", response=OutboxMailView,
              summary="Send a failed mail again (admins)"),
    operation("GET", "/users/me/mail", my_mail, body=Empty, tag="users",
              response=MailSettingView,
              summary="Whether you get notices by mail (calendar invitations always go)"),
    operation("PUT", "/users/me/mail", set_my_mail, body=MailSettingIn, tag="users",
              response=MailSettingView,
              summary="Choose to get notices by mail, or only in Casebridge's inbox"),
]
