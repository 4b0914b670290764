"""The mail outbox for administrators: what waits, what went, what failed and why,
with a retry for a failed mail; and each person's own mail setting."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from conference.mail import MailStatus
from storage import outbox, users
from web.mailer import nudge
from web.pages.action import Posted, Visit, action, view
from web.pages.common import flash, page, see_other


@view
def outbox_page(visit: Visit) -> Response:
    raw = visit.request.query_params.get("status", "")
    status = MailStatus(raw) if raw in set(MailStatus) else None
    rows = outbox.listing(visit.session, actor=visit.user, status=status)
    return page(visit.request, "pages/outbox.html", {
        "mails": rows, "counts": outbox.counts(visit.session), "status": status,
        "configured": visit.request.app.state.settings.smtp is not None})


def _retry(call: Posted[Any]) -> Response:
    row = outbox.retry(call.session, actor=call.user, mail_id=call.id())
    nudge(call.request.app)
    flash(call.request, f"The mail to {row.to_address} will be sent again.")
    return see_other("/admin/outbox")


def _mail_setting(call: Posted[Any]) -> Response:
    wanted = call.form.get("mail_notices") == "on"
    users.set_mail_notices(call.session, call.user, bool(wanted))
    flash(call.request, "You get notices by mail too." if wanted
          else "Your notices stay here, in Casebridge; no mail.")
    return see_other("/notifications#mail")


retry = action(_retry)
mail_setting = action(_mail_setting)

routes = [
    Route("/admin/outbox", outbox_page),
    Route("/admin/outbox/{id:int}/retry", retry, methods=["POST"]),
    Route("/notifications/mail", mail_setting, methods=["POST"]),
]
