"""Conferences: schedule, publish, invite members; read one with its agenda."""

from __future__ import annotations

from sqlmodel import Session

from conference.permissions import sees_agenda
from conference.quorum import describe_rule, rule_to_dict
from storage import agenda, conferences
from storage.tables import Conference, User
from web.api.access import visible_conference
from web.api.endpoint import Call, operation
from web.api.schemas import ConferenceIn, ConferenceStatusIn, Empty, MemberIn, QuorumRuleIn
from web.api.views import (
    AgendaItemView,
    ConferenceDetail,
    ConferenceView,
    MemberView,
    QuorumRuleView,
    Timing,
)
from web.auth import public_base


def detail(session: Session, conf: Conference, viewer: User | None = None) -> ConferenceDetail:
    """A conference with its members (chair first), ordered agenda and timing; for a
    guest member (``viewer``), only their own requests' items, the chair and themselves."""
    assert conf.id is not None
    rows = conferences.members(session, conf.id)
    shown = agenda.items(session, conf.id)
    if viewer is not None and not sees_agenda(role=viewer.role, conference_role=next(
            (m.conference_role for m, u in rows if u.id == viewer.id), None)):
        shown = agenda.items_for(session, viewer=viewer, conference_id=conf.id)
        rows = [(m, u) for m, u in rows if u.id in (conf.chair_id, viewer.id)]
    members = [MemberView(user_id=m.user_id, name=u.name, role=u.role, specialty=u.specialty,
                          conference_role=m.conference_role, added_at=m.added_at)
               for m, u in rows]
    items = [AgendaItemView.model_validate(i) for i in shown]
    time = agenda.timing(session, conf)
    return ConferenceDetail(
        **ConferenceView.model_validate(conf).model_dump(), members=members, agenda=items,
        timing=Timing(planned_minutes=time.planned_minutes,
                      duration_minutes=time.duration_minutes, over_by=time.over_by,
                      remaining=time.remaining),
    )


def list_conferences(call: Call[Empty]) -> list[ConferenceView]:
    return [ConferenceView.model_validate(c)
            for c in conferences.visible_to(call.session, call.user)]


def create_conference(call: Call[ConferenceIn]) -> ConferenceDetail:
    body = call.body
    conf = conferences.create_conference(
        call.session, actor=call.user, title=body.title, starts_at=body.starts_at,
        duration_minutes=body.duration_minutes, chair_id=body.chair_id)
    call.session.flush()
    return detail(call.session, conf)


def get_conference(call: Call[Empty]) -> ConferenceDetail:
    return detail(call.session, visible_conference(call.session, call.user, call.id()),
                  call.user)


def set_status(call: Call[ConferenceStatusIn]) -> ConferenceDetail:
    conf = conferences.set_status(call.session, actor=call.user, conference_id=call.id(),
                                  status=call.body.status,
                                  live_window=call.request.app.state.settings.live_window,
                                  base_url=public_base(call.request))
    return detail(call.session, conf)


def add_member(call: Call[MemberIn]) -> MemberView:
    member = conferences.add_member(
        call.session, actor=call.user, conference_id=call.id(), user_id=call.body.user_id,
        conference_role=call.body.conference_role, base_url=public_base(call.request))
    person = next(u for m, u in conferences.members(call.session, member.conference_id)
                  if m.user_id == member.user_id)
    return MemberView(user_id=member.user_id, name=person.name, role=person.role,
                      specialty=person.specialty, conference_role=member.conference_role,
                      added_at=member.added_at)


def quorum_view(conf: Conference) -> QuorumRuleView:
    rule = conferences.quorum_rule(conf)
    return QuorumRuleView.model_validate({**rule_to_dict(rule), "custom": bool(conf.quorum_rule),
                                          "description": describe_rule(rule)})


def get_quorum(call: Call[Empty]) -> QuorumRuleView:
    return quorum_view(visible_conference(call.session, call.user, call.id()))


def set_quorum(call: Call[QuorumRuleIn]) -> QuorumRuleView:
    return quorum_view(conferences.set_quorum_rule(
        call.session, actor=call.user, conference_id=call.id(), rule=call.body.to_domain()))


def reset_quorum(call: Call[Empty]) -> QuorumRuleView:
    return quorum_view(conferences.set_quorum_rule(
        call.session, actor=call.user, conference_id=call.id(), rule=None))


TAG = "conferences"
routes = [
    operation("GET", "/conferences", list_conferences, body=Empty, tag=TAG, many=True,
              summary="Conferences you belong to (all of them for coordinators), soonest first",
              response=ConferenceView),
    operation("POST", "/conferences", create_conference, body=ConferenceIn, tag=TAG,
              summary="Schedule a conference (coordinators); its chair becomes a member",
              response=ConferenceDetail, status=201),
    operation("GET", "/conferences/{id:int}", get_conference, body=Empty, tag=TAG,
              summary="One conference with its members, ordered agenda and timing",
              response=ConferenceDetail),
    operation("PUT", "/conferences/{id:int}/status", set_status, body=ConferenceStatusIn,
              tag=TAG, summary="Publish, reopen, go live or close (coordinators, the chair)",
              response=ConferenceDetail),
    operation("GET", "/conferences/{id:int}/quorum", get_quorum, body=Empty, tag=TAG,
              summary="The sign-off rule: who must be present to sign a decision",
              response=QuorumRuleView),
    operation("PUT", "/conferences/{id:int}/quorum", set_quorum, body=QuorumRuleIn, tag=TAG,
              summary="Give the conference its own sign-off rule (coordinators)",
              response=QuorumRuleView),
    operation("DELETE", "/conferences/{id:int}/quorum", reset_quorum, body=Empty,
              optional_body=True, tag=TAG,
              summary="Back to the default sign-off rule (coordinators)",
              response=QuorumRuleView),
    operation("POST", "/conferences/{id:int}/members", add_member, body=MemberIn, tag=TAG,
              summary="Invite a person as member or guest (coordinators)",
              response=MemberView, status=201),
]
