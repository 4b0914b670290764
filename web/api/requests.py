"""Second-opinion requests: a referring clinician asks, coordinators schedule or decline.

A clinician sees only their own requests; another's is "not found".
"""

from __future__ import annotations

from sqlmodel import Session

from conference.referrals import RequestStatus
from storage import decisions, referrals
from storage.tables import SecondOpinionRequest
from web.api.cases import revision_view
from web.api.endpoint import Call, operation
from web.api.schemas import DeclineIn, Empty, RequestIn, ScheduleIn
from web.api.views import RequestView


def request_view(session: Session, request: SecondOpinionRequest) -> RequestView:
    view = RequestView.model_validate(request)
    took = referrals.turnaround_of(request)
    view.turnaround_hours = round(took.total_seconds() / 3600, 2) if took else None
    if request.status is RequestStatus.ANSWERED:
        view.decision = revision_view(decisions.latest_signed_for_case(session, request.case_id))
    return view


def submit(call: Call[RequestIn]) -> RequestView:
    body = call.body
    request = referrals.submit(call.session, actor=call.user, details=body.to_domain(),
                               requested_specialties=list(body.requested_specialties),
                               referrer_patient_id=body.referrer_patient_id)
    return request_view(call.session, request)


def list_requests(call: Call[Empty]) -> list[RequestView]:
    return [request_view(call.session, r)
            for r in referrals.requests_of(call.session, viewer=call.user)]


def get_request(call: Call[Empty]) -> RequestView:
    request = referrals.view_request(call.session, viewer=call.user, request_id=call.id())
    return request_view(call.session, request)


def schedule(call: Call[ScheduleIn]) -> RequestView:
    request, _ = referrals.schedule(call.session, actor=call.user, request_id=call.id(),
                                    conference_id=call.body.conference_id,
                                    planned_minutes=call.body.planned_minutes)
    return request_view(call.session, request)


def accept(call: Call[Empty]) -> RequestView:
    request = referrals.accept(call.session, actor=call.user, request_id=call.id())
    return request_view(call.session, request)


def decline(call: Call[DeclineIn]) -> RequestView:
    request = referrals.decline(call.session, actor=call.user, request_id=call.id(),
                                reason=call.body.reason)
    return request_view(call.session, request)


TAG = "requests"
routes = [
    operation("POST", "/requests", submit, body=RequestIn, tag=TAG, status=201,
              summary="Ask the team for a second opinion (referring clinicians): "
                      "the case's fields plus the specialties wanted", response=RequestView),
    operation("GET", "/requests", list_requests, body=Empty, tag=TAG, many=True,
              summary="Your requests (every request for coordinators), newest first",
              response=RequestView),
    operation("GET", "/requests/{id:int}", get_request, body=Empty, tag=TAG,
              summary="One request, with the signed decision once answered",
              response=RequestView),
    operation("POST", "/requests/{id:int}/schedule", schedule, body=ScheduleIn, tag=TAG,
              summary="Accept if needed and put the case on an agenda (coordinators)",
              response=RequestView),
    operation("POST", "/requests/{id:int}/accept", accept, body=Empty, optional_body=True,
              tag=TAG,
              summary="Accept, not yet on an agenda (coordinators)", response=RequestView),
    operation("POST", "/requests/{id:int}/decline", decline, body=DeclineIn, tag=TAG,
              summary="Decline with a reason (coordinators)", response=RequestView),
]
