"""Jinja2 pages: autoescaped, with the helpers every template needs."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from conference.decision_outcomes import OUTCOME_LABELS, Outcome
from conference.people import SPECIALTY_LABELS, Specialty
from web.auth import csrf_token

TEMPLATES = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.autoescape = True


def _when(value: datetime | None, fmt: str = "%a %d %b %Y, %H:%M %Z") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo("UTC")).strftime(fmt)


def _day(value: date | None) -> str:
    return value.strftime("%d %b %Y") if value else "undated"


def label(value: Any) -> str:
    """How a page names an enum value: the domain's label table where there is one
    (specialties, outcomes), else the value in words. The room's script gets these
    same labels as JSON (``web.live.room_labels``), so it never keeps its own."""
    if isinstance(value, Specialty):
        return SPECIALTY_LABELS[value]
    if isinstance(value, Outcome):
        return OUTCOME_LABELS[value]
    text = str(getattr(value, "value", value) or "")
    return text.replace("_", " ").capitalize()


_HTTPS = re.compile(r"https://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def linkify(text: str) -> Markup:
    """Plain text for a page: escaped, with https links made clickable (opening in a
    new tab, without a referrer). Nothing else in a message becomes markup."""
    out, last = [], 0
    for match in _HTTPS.finditer(text):
        out.append(escape(text[last:match.start()]))
        url = escape(match.group(0))
        out.append(Markup('<a href="{0}" target="_blank" rel="noopener noreferrer">{0}</a>')
                   .format(url))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


_MARKED = re.compile(r"\[([^\[\]]{1,200})\]")


def highlight(snippet: str) -> Markup:
    """A search snippet with its [matched words] marked; everything else is text."""
    out, last = [], 0
    for match in _MARKED.finditer(snippet):
        out.append(escape(snippet[last:match.start()]))
        out.append(Markup("<mark>{}</mark>").format(match.group(1)))
        last = match.end()
    out.append(escape(snippet[last:]))
    return Markup("").join(out)


templates.env.filters.update(when=_when, day=_day, label=label, linkify=linkify,
                             highlight=highlight)


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    """Render ``name`` with the CSRF token and the signed-in person in reach."""
    ctx = {"csrf_token": csrf_token(request), "me": getattr(request.state, "user", None)}
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers.setdefault("cache-control", "no-store")
    return response
