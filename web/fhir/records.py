"""What a person may read as FHIR, loaded from storage, permitted and audited.

Access follows the API's rules, asked of the same functions: a case's resources
(its request, encounters, decisions, imaging, outcomes) to whoever may open the
case (:func:`storage.cases.may_view`: organisers, the conference members who
discuss it, the referring clinician for their own requests); a conference's
Appointment to whoever may open the conference; the audit trail to organisers.
Anything else is not found, so an outsider learns nothing. Every read, one
resource or a whole bundle, is written to the audit trail with the resource it
read and the client's network address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from sqlmodel import Session, col, select

from conference.audit import AuditAction, Entity
from conference.errors import NotFound
from conference.permissions import require_organiser
from storage import agenda, audit, cases, conferences, outcomes, referrals
from storage.clock import utcnow
from storage.tables import (
    AgendaItem,
    Attendance,
    AuditEvent,
    Case,
    Conference,
    DecisionRevision,
    FollowUp,
    Handoff,
    ImagingLink,
    OutcomeMeasure,
    SecondOpinionRequest,
    User,
)
from web.api.schemas import MAX_ID
from web.fhir import resources as r

# The resource types Casebridge serves, and the audit trail's name for each.
ENTITIES = {
    "ServiceRequest": Entity.REQUEST, "Appointment": Entity.CONFERENCE,
    "Encounter": Entity.AGENDA_ITEM, "CarePlan": Entity.DECISION,
    "Provenance": Entity.DECISION, "ImagingStudy": Entity.IMAGING,
    "Endpoint": Entity.IMAGING, "Observation": Entity.OUTCOME,
    "AuditEvent": Entity.AUDIT_EVENT,
}
VERSIONED = frozenset({"CarePlan"})


def _number(kind: str, value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise NotFound(f"No {kind} with id {value!r}.")
    return int(value)


@dataclass
class Records:
    """One person's reads, in one database session."""

    session: Session
    viewer: User
    site: r.Site
    address: str
    now: datetime = field(default_factory=utcnow)
    _people: dict[int, User] = field(default_factory=dict)
    # A conference's Appointment, built once: a conference bundle meets it in every case.
    _appointments: dict[int, Resource] = field(default_factory=dict)

    # -- access ---------------------------------------------------------------------

    def _case(self, case_id: int, kind: str, shown: str) -> Case:
        case = self.session.get(Case, case_id)
        if case is None or not cases.may_view(self.session, viewer=self.viewer, case=case):
            raise NotFound(f"No {kind} with id {shown!r}.")
        return case

    def _may_see_conference(self, conference_id: int) -> bool:
        try:
            conferences.visible_conference(self.session, viewer=self.viewer,
                                           conference_id=conference_id)
        except NotFound:
            return False
        return True

    def _audit(self, entity: Entity, entity_id: int, case_id: int | None, resource: str,
               interaction: str) -> None:
        audit.record(self.session, actor_id=self.viewer.id, action=AuditAction.VIEWED,
                     entity=entity, entity_id=entity_id, case_id=case_id, now=self.now,
                     detail={"via": "fhir", "resource": resource,
                             "interaction": interaction, "address": self.address})

    def _people_named(self, ids: Iterable[int | None]) -> dict[int, User]:
        wanted = {i for i in ids if i is not None and i not in self._people}
        if wanted:
            for user in self.session.exec(select(User).where(col(User.id).in_(wanted))):
                assert user.id is not None
                self._people[user.id] = user
        return self._people

    # -- one resource ---------------------------------------------------------------

    def read(self, kind: str, rid: str) -> Resource:
        """``GET /fhir/R4/{kind}/{rid}``: the resource (the latest version), audited."""
        if kind not in ENTITIES:
            raise NotFound(f"Casebridge serves no {kind} resources.")
        if kind == "Endpoint":
            return self._endpoint(rid)
        number = _number(kind, rid)
        built, entity_id, case_id = self._build(kind, number, rid)
        self._audit(ENTITIES[kind], entity_id, case_id, f"{kind}/{rid}", "read")
        return built

    def history(self, kind: str, rid: str) -> list[Resource]:
        """Every version, newest first (CarePlan: one per signed revision; other
        resources have only their current version)."""
        if kind not in VERSIONED:
            return [self.read(kind, rid)]
        number = _number(kind, rid)
        revisions = self._revisions(number, rid)
        self._audit(Entity.DECISION, number, revisions[0].case_id, f"{kind}/{rid}", "history")
        return [self._care_plan(rev, revisions[0]) for rev in reversed(revisions)]

    def vread(self, kind: str, rid: str, version: str) -> Resource:
        """One version of a resource."""
        if kind not in VERSIONED:
            current = self.read(kind, rid)
            if version != "1":
                raise NotFound(f"{kind}/{rid} has no version {version!r}.")
            return current
        number = _number(kind, rid)
        revisions = self._revisions(number, rid)
        chosen = [rev for rev in revisions if str(rev.revision) == version]
        if not chosen:
            raise NotFound(f"{kind}/{rid} has no version {version!r}.")
        self._audit(Entity.DECISION, number, chosen[0].case_id,
                    f"{kind}/{rid}/_history/{version}", "vread")
        return self._care_plan(chosen[0], revisions[0])

    def _build(self, kind: str, number: int, shown: str) -> tuple[Resource, int, int | None]:
        if kind == "Appointment":
            conf = self.session.get(Conference, number)
            if conf is None or not self._may_see_conference(number):
                raise NotFound(f"No Appointment with id {shown!r}.")
            return self._appointment(conf), number, None
        if kind == "AuditEvent":
            require_organiser(self.viewer.role, "read the audit trail")
            line = self.session.get(AuditEvent, number)
            if line is None:
                raise NotFound(f"No AuditEvent with id {shown!r}.")
            return self._audit_event(line), number, line.case_id
        built, case_id = self._case_resource(kind, number, shown)
        return built, number, case_id

    def _case_resource(self, kind: str, number: int, shown: str) -> tuple[Resource, int]:
        """A resource about one case, if the viewer may open that case."""
        if kind == "ServiceRequest":
            request = self.session.get(SecondOpinionRequest, number)
            case = self._case(request.case_id if request else 0, kind, shown)
            assert request is not None
            return self._service_request(request, case), case.id or 0
        if kind == "Encounter":
            item = self.session.get(AgendaItem, number)
            case = self._case(item.case_id if item else 0, kind, shown)
            assert item is not None
            return self._encounter(item, case), item.case_id
        if kind == "CarePlan":
            revisions = self._revisions(number, shown)
            return self._care_plan(revisions[-1], revisions[0]), revisions[0].case_id
        if kind == "Provenance":
            revision = self.session.get(DecisionRevision, number)
            self._case(revision.case_id if revision else 0, kind, shown)
            assert revision is not None
            people = self._people_named([revision.signed_by_id])
            return r.provenance(revision, people.get(revision.signed_by_id)), revision.case_id
        if kind == "ImagingStudy":
            link = self.session.get(ImagingLink, number)
            case = self._case(link.case_id if link else 0, kind, shown)
            assert link is not None
            return r.imaging_study(self.site, link, case), link.case_id
        measure = self.session.get(OutcomeMeasure, number)
        case = self._case(measure.case_id if measure else 0, kind, shown)
        assert measure is not None
        return self._observation(measure, case), measure.case_id

    def _endpoint(self, rid: str) -> Resource:
        if rid == r.ARCHIVE_ENDPOINT and self.site.archive_url:
            # The archive's address only: no patient's data, so not an audited read.
            return r.archive_endpoint(self.site)
        if not rid.startswith("viewer-"):
            raise NotFound(f"No Endpoint with id {rid!r}.")
        number = _number("Endpoint", rid.removeprefix("viewer-"))
        link = self.session.get(ImagingLink, number)
        self._case(link.case_id if link else 0, "Endpoint", rid)
        assert link is not None
        self._audit(Entity.IMAGING, number, link.case_id, f"Endpoint/{rid}", "read")
        return r.viewer_endpoint(link)

    # -- builders with their lookups --------------------------------------------------

    def _revisions(self, item_id: int, shown: str) -> list[DecisionRevision]:
        revisions = list(self.session.exec(
            select(DecisionRevision).where(DecisionRevision.agenda_item_id == item_id)
            .order_by(col(DecisionRevision.revision))))
        self._case(revisions[0].case_id if revisions else 0, "CarePlan", shown)
        return revisions

    def _service_request(self, request: SecondOpinionRequest, case: Case) -> Resource:
        people = self._people_named([request.requested_by_id])
        return r.service_request(self.site, request, case, people.get(request.requested_by_id),
                                 cases.imaging(self.session, request.case_id))

    def _appointment(self, conf: Conference) -> Resource:
        assert conf.id is not None
        if conf.id not in self._appointments:
            self._appointments[conf.id] = self._build_appointment(conf)
        return self._appointments[conf.id]

    def _build_appointment(self, conf: Conference) -> Resource:
        assert conf.id is not None
        items = agenda.items(self.session, conf.id)
        attended = set(self.session.exec(
            select(Attendance.user_id).where(
                col(Attendance.agenda_item_id).in_([i.id for i in items]))))
        requests = [referrals.request_for_case(self.session, i.case_id) for i in items]
        return r.appointment(self.site, conf, conferences.members(self.session, conf.id),
                             attended, [q.id for q in requests if q and q.id])

    def _encounter(self, item: AgendaItem, case: Case) -> Resource:
        conf = conferences.get_conference(self.session, item.conference_id)
        attendance = list(self.session.exec(
            select(Attendance).where(Attendance.agenda_item_id == item.id)
            .order_by(col(Attendance.first_seen_at), col(Attendance.id))))
        people = self._people_named(a.user_id for a in attendance)
        return r.encounter(self.site, item, conf, case, attendance, people,
                           referrals.request_for_case(self.session, item.case_id))

    def _care_plan(self, revision: DecisionRevision, first: DecisionRevision) -> Resource:
        case = self.session.get(Case, revision.case_id)
        assert case is not None
        handoffs = list(self.session.exec(
            select(Handoff).where(Handoff.item_id == revision.agenda_item_id)
            .order_by(col(Handoff.due_on), col(Handoff.id))))
        follow_up = self.session.exec(
            select(FollowUp).where(FollowUp.item_id == revision.agenda_item_id)
            .order_by(col(FollowUp.id).desc())).first()
        people = self._people_named([
            revision.signed_by_id, revision.responsible_clinician_id,
            *(revision.present_user_ids or []), *(d["user_id"] for d in revision.dissent),
            *(h.owner_id for h in handoffs)])
        return r.care_plan(self.site, revision, first.signed_at, case, people,
                           referrals.request_for_case(self.session, case.id or 0), handoffs,
                           due_on=follow_up.due_on if follow_up else None)

    def _observation(self, measure: OutcomeMeasure, case: Case) -> Resource:
        score = next(m.score for m in outcomes.measured(self.session, measure.case_id)
                     if m.row.id == measure.id)
        people = self._people_named([measure.recorded_by_id])
        return r.observation(self.site, measure, score, case, people.get(measure.recorded_by_id
                                                                         or 0))

    def _audit_event(self, line: AuditEvent) -> Resource:
        people = self._people_named([line.actor_id])
        case = self.session.get(Case, line.case_id) if line.case_id else None
        return r.audit_event(self.site, line, people.get(line.actor_id or 0), case)

    # -- bundles --------------------------------------------------------------------

    def _case_entries(self, case: Case) -> list[tuple[str, str, Resource]]:
        """(type, id, resource) for everything about one case the viewer may see."""
        assert case.id is not None
        found: list[tuple[str, str, Resource]] = []
        request = referrals.request_for_case(self.session, case.id)
        if request is not None:
            found.append(("ServiceRequest", str(request.id),
                          self._service_request(request, case)))
        for item in agenda.items_for_case(self.session, case.id):
            if self._may_see_conference(item.conference_id):
                conf = conferences.get_conference(self.session, item.conference_id)
                found.append(("Appointment", str(conf.id), self._appointment(conf)))
            found.append(("Encounter", str(item.id), self._encounter(item, case)))
            revisions = list(self.session.exec(
                select(DecisionRevision).where(DecisionRevision.agenda_item_id == item.id)
                .order_by(col(DecisionRevision.revision))))
            if revisions:
                found.append(("CarePlan", str(item.id),
                              self._care_plan(revisions[-1], revisions[0])))
            people = self._people_named(rev.signed_by_id for rev in revisions)
            found += [("Provenance", str(rev.id), r.provenance(rev, people.get(rev.signed_by_id)))
                      for rev in revisions]
        for link in cases.imaging(self.session, case.id):
            found.append(("ImagingStudy", str(link.id), r.imaging_study(self.site, link, case)))
            found.append(("Endpoint", r.viewer_endpoint_id(link), r.viewer_endpoint(link)))
            if link.study_instance_uid and self.site.archive_url:
                found.append(("Endpoint", r.ARCHIVE_ENDPOINT, r.archive_endpoint(self.site)))
        measures = outcomes.measured(self.session, case.id)
        people = self._people_named(m.row.recorded_by_id for m in measures)
        found += [("Observation", str(m.row.id), r.observation(
            self.site, m.row, m.score, case, people.get(m.row.recorded_by_id or 0)))
            for m in measures]
        return found

    def _bundle(self, entries: list[tuple[str, str, Resource]]) -> Bundle:
        seen: set[str] = set()
        unique = []
        for kind, rid, resource in entries:
            url = self.site.full_url(kind, rid)
            if url not in seen:
                seen.add(url)
                unique.append({"fullUrl": url, "resource": resource})
        return Bundle.model_validate({"type": "collection", "timestamp": self.now,
                                      "entry": unique})

    def case_bundle(self, case_id: int) -> Bundle:
        """Every resource about one case (``GET /api/v1/cases/{id}/fhir``), audited as a
        read of the case."""
        case = self._case(case_id, "case", str(case_id))
        self._audit(Entity.CASE, case_id, case_id, f"Bundle?case={case_id}", "search")
        return self._bundle(self._case_entries(case))

    def conference_bundle(self, conference_id: int) -> Bundle:
        """The conference's Appointment and the resources of each case on its agenda that
        the viewer may open (a guest sees their own), each case's read audited."""
        conf = conferences.visible_conference(self.session, viewer=self.viewer,
                                              conference_id=conference_id)
        entries: list[tuple[str, str, Resource]] = [
            ("Appointment", str(conference_id), self._appointment(conf))]
        self._audit(Entity.CONFERENCE, conference_id, None,
                    f"Bundle?conference={conference_id}", "search")
        for item in agenda.items(self.session, conference_id):
            case = self.session.get(Case, item.case_id)
            assert case is not None
            if cases.may_view(self.session, viewer=self.viewer, case=case):
                self._audit(Entity.CASE, item.case_id, item.case_id,
                            f"Bundle?conference={conference_id}", "search")
                entries += self._case_entries(case)
        return self._bundle(entries)
