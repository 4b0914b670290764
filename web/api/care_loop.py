"""After the decision: follow-ups back to the agenda, post-operative handoffs."""

from __future__ import annotations

from storage import care_loop
from web.api.body import read_query
from web.api.endpoint import Call, operation
from web.api.schemas import Empty, FollowUpQuery, HandoffPatch, ScheduleIn
from web.api.views import AgendaItemView, FollowUpView, HandoffView


def follow_ups(call: Call[Empty]) -> list[FollowUpView]:
    query = read_query(call.request.query_params, FollowUpQuery)
    return [FollowUpView.model_validate(f) for f in care_loop.follow_ups(
        call.session, actor=call.user, due_before=query.due_before)]


def schedule_follow_up(call: Call[ScheduleIn]) -> AgendaItemView:
    item = care_loop.schedule(call.session, actor=call.user, follow_up_id=call.id(),
                              conference_id=call.body.conference_id,
                              planned_minutes=call.body.planned_minutes)
    return AgendaItemView.model_validate(item)


def handoffs(call: Call[Empty]) -> list[HandoffView]:
    return [HandoffView.model_validate(h)
            for h in care_loop.handoffs(call.session, viewer=call.user, case_id=call.id())]


def update_handoff(call: Call[HandoffPatch]) -> HandoffView:
    body = call.body
    return HandoffView.model_validate(care_loop.update_handoff(
        call.session, actor=call.user, handoff_id=call.id(), done=body.done,
        owner_id=body.owner_id, set_owner="owner_id" in body.model_fields_set,
        due_on=body.due_on))


routes = [
    operation("GET", "/follow-ups", follow_ups, body=Empty, query=FollowUpQuery,
              tag="follow-ups", response=FollowUpView, many=True,
              summary="Follow-ups not done, soonest first, optionally due by a date "
                      "(coordinators)"),
    operation("POST", "/follow-ups/{id:int}/schedule", schedule_follow_up, body=ScheduleIn,
              tag="follow-ups", response=AgendaItemView, status=201,
              summary="Put the case back on a conference's agenda as a new item"),
    operation("GET", "/cases/{id:int}/handoffs", handoffs, body=Empty, tag="follow-ups",
              response=HandoffView, many=True, summary="The case's post-operative handoffs"),
    operation("PATCH", "/handoffs/{id:int}", update_handoff, body=HandoffPatch,
              tag="follow-ups", response=HandoffView,
              summary="Mark a task done (its owner) or reassign and re-date it "
                      "(coordinators)"),
]
