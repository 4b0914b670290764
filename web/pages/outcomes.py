"""The patient's questionnaire: opened from a single-use link, no account, one
questionnaire per screen, large targets for a phone, nothing about the case on it.

Answers travel with the form from screen to screen and are stored together at the
end, so a patient who stops half way leaves nothing behind and can start again."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conference import outcomes
from conference.errors import CasebridgeError, InvalidInput, NotAuthenticated
from conference.outcomes import Instrument
from storage import outcomes as stored
from web.auth import signer
from web.db import db
from web.pages.forms import Form, read_form
from web.settings import Settings
from web.templating import render


def _questions(request: Request, instrument: Instrument) -> list[dict[str, Any]]:
    """What each item asks and the answers offered: the licensed wording where the
    site provides it, else the section title and a plain 0-5 scale."""
    if instrument not in outcomes.INDEXES:
        return [{"name": instrument.value, "question": outcomes.NRS_QUESTIONS[instrument],
                 "answers": [str(n) for n in range(outcomes.MAX_NRS + 1)],
                 "anchors": outcomes.NRS_ANCHORS}]
    settings: Settings = request.app.state.settings
    licensed = settings.instrument_text.get(instrument.value)
    titles = outcomes.SECTION_TITLES[instrument]
    plain = [str(n) for n in range(outcomes.MAX_ANSWER + 1)]
    return [{"name": f"{instrument.value}-{n}", "title": title,
             "question": licensed[n]["question"] if licensed else None,
             "answers": licensed[n]["answers"] if licensed else plain,
             "anchors": None if licensed else ("0 = no problem", "5 = the worst")}
            for n, title in enumerate(titles)]


def _answers_of(form: Form, instrument: Instrument) -> list[int | None] | int:
    """This questionnaire's answers as typed; InvalidInput naming the field if odd."""
    def number(name: str, top: int) -> int | None:
        raw = form.get(name)
        if raw == "":
            return None
        if not raw.isdigit() or int(raw) > top:
            raise InvalidInput("Choose one of the answers offered.", field=name)
        return int(raw)
    if instrument in outcomes.INDEXES:
        answers = [number(f"{instrument.value}-{n}", outcomes.MAX_ANSWER)
                   for n in range(outcomes.SECTIONS)]
        outcomes.score(instrument, answers=answers)  # at least eight, each 0-5
        return answers
    value = number(instrument.value, outcomes.MAX_NRS)
    if value is None:
        raise InvalidInput("Choose a number from 0 to 10.", field=instrument.value)
    return value


def _screen(request: Request, token: str, instruments: list[str], step: int, form: Form,
            status: int = 200) -> Response:
    instrument = Instrument(instruments[step])
    carried = {name: values for name, values in form.data.items()
               if not name.startswith(instrument.value) and name != "step"}
    return render(request, "pages/outcome_form.html", {
        "token": token, "step": step, "steps": len(instruments), "form": form,
        "instrument": instrument, "title": outcomes.NAMES[instrument],
        "questions": _questions(request, instrument), "carried": carried,
        "is_index": instrument in outcomes.INDEXES}, status)


def _closed(request: Request, exc: CasebridgeError, status: int) -> Response:
    return render(request, "pages/outcome_done.html", {"message": exc.message, "done": False},
                  status)


def _link_id(request: Request, token: str) -> int:
    return signer(request).read_outcome(token)


def _show(request: Request, token: str) -> Response:
    try:
        with db(request) as session:
            link = stored.open_link(session, _link_id(request, token))
            return _screen(request, token, list(link.instruments), 0, Form())
    except NotAuthenticated as exc:
        return _closed(request, exc, 410)


def _answer(request: Request, token: str, form: Form) -> Response:
    try:
        with db(request) as session:
            link = stored.open_link(session, _link_id(request, token))
            instruments = list(link.instruments)
            step = int(form.get("step", "0")) if form.get("step", "0").isdigit() else 0
            step = min(step, len(instruments) - 1)
            try:
                _answers_of(form, Instrument(instruments[step]))
            except InvalidInput as exc:
                form.fail(exc.field or "form", exc.message)
                return _screen(request, token, instruments, step, form, 422)
            if step + 1 < len(instruments):
                return _screen(request, token, instruments, step + 1, form)
            answers = {name: _answers_of(form, Instrument(name)) for name in instruments}
            stored.answer_link(session, link_id=link.id or 0, answers=answers)
        return render(request, "pages/outcome_done.html", {"done": True, "message": None})
    except NotAuthenticated as exc:
        return _closed(request, exc, 410)


async def questionnaire(request: Request) -> Response:
    token = str(request.path_params["token"])
    if request.method == "GET":
        return await run_in_threadpool(_show, request, token)
    form = await read_form(request)
    return await run_in_threadpool(_answer, request, token, form)


routes = [Route("/outcomes/{token:str}", questionnaire, methods=["GET", "POST"])]
