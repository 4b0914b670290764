"""Patient-reported outcomes of a case, and the patients' questionnaire links."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from storage import outcomes
from storage.tables import OutcomeMeasure
from web.api.endpoint import Call, operation
from web.api.schemas import Empty, OutcomeIn, OutcomeLinkIn
from web.api.views import OutcomeLinkView, OutcomeSeriesView, OutcomeView
from web.auth import public_base, signer


def _view(row: OutcomeMeasure) -> OutcomeView:
    return OutcomeView(id=row.id or 0, instrument=row.instrument, score=row.score_tenths / 10,
                       answered=row.answered, collected_on=row.collected_on,
                       timepoint=row.timepoint)


def record_outcome(call: Call[OutcomeIn]) -> OutcomeView:
    body = call.body
    row = outcomes.record(
        call.session, actor=call.user, case_id=call.id(), instrument=body.instrument,
        collected_on=body.collected_on, timepoint=body.timepoint, answers=body.answers,
        total=None if body.score is None else Decimal(str(body.score)))
    return _view(row)


def outcome_series(call: Call[Empty]) -> list[OutcomeSeriesView]:
    return [OutcomeSeriesView(**_view(m.row).model_dump(),
                              change_from_baseline=float(m.change_from_baseline),
                              mcid_reached=m.mcid_reached)
            for m in outcomes.series(call.session, viewer=call.user, case_id=call.id())]


def create_outcome_link(call: Call[OutcomeLinkIn]) -> OutcomeLinkView:
    body = call.body
    hours = body.expires_in_hours
    link = outcomes.create_link(
        call.session, actor=call.user, case_id=call.id(), instruments=body.instruments,
        timepoint=body.timepoint, lifetime=None if hours is None else timedelta(hours=hours))
    token = signer(call.request).issue_outcome(link)
    mailed = outcomes.mail_link(call.session, actor=call.user, link=link,
                                path=f"/outcomes/{token}") if body.send_to_referrer else None
    return OutcomeLinkView(url=f"{public_base(call.request)}/outcomes/{token}", token=token,
                           expires_at=link.expires_at, mailed_to=mailed.name if mailed else None)


TAG = "outcomes"
routes = [
    operation("POST", "/cases/{id:int}/outcomes", record_outcome, body=OutcomeIn, tag=TAG,
              response=OutcomeView, status=201,
              summary="Record a patient-reported outcome (answers item by item, or a total)"),
    operation("GET", "/cases/{id:int}/outcomes", outcome_series, body=Empty, tag=TAG,
              response=OutcomeSeriesView, many=True,
              summary="Every measure, oldest first, with its change from baseline and "
                      "whether the improvement is clinically important"),
    operation("POST", "/cases/{id:int}/outcome-links", create_outcome_link, body=OutcomeLinkIn,
              tag=TAG, response=OutcomeLinkView, status=201,
              summary="A single-use, expiring address where the patient answers without "
                      "an account"),
]
