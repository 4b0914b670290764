"""Casebridge's records as FHIR R4 resources, built with ``fhir.resources`` (R4B).

Pure mapping: each function takes stored rows (already loaded and permitted by
``web/fhir/records.py``) and returns a validated model. The mapping, in short:

=====================  ==================================================  ===========
Casebridge             FHIR                                                id
=====================  ==================================================  ===========
second-opinion request ServiceRequest (order, Consultation, reason S)      request id
conference             Appointment (+ R5 virtualService as an extension)   conference
agenda item            Encounter (class VR, participants from attendance)  item id
signed decision        CarePlan, one version per signed revision           item id
each signed revision   Provenance (who signed, when, which version)        revision id
imaging link           ImagingStudy (urn:dicom:uid) and its Endpoints      link id
outcome measure        Observation (LOINC where one exists)                measure id
audit trail line       AuditEvent (IHE BALP: rest, read/create/update)     event id
=====================  ==================================================  ===========

The patient is never a resource: every ``subject`` is a logical reference, the
case's pseudonymous reference as an identifier in the site's system
(``CASEBRIDGE_FHIR_PATIENT_SYSTEM``). No name, no birth date. People are logical
references too (identifier and display name): Casebridge keeps no Practitioner
records a hospital would want to merge with its own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.endpoint import Endpoint
from fhir.resources.R4B.imagingstudy import ImagingStudy
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.servicerequest import ServiceRequest

from conference.agenda import ItemStatus
from conference.audit import AuditAction
from conference.cases import Urgency
from conference.conferences import ConferenceStatus
from conference.decision_outcomes import OUTCOME_LABELS, Outcome
from conference.imaging import Modality
from conference.outcomes import INDEXES, NAMES, Instrument
from conference.people import SPECIALTY_LABELS, ConferenceRole, Specialty
from conference.referrals import RequestStatus
from storage.tables import (
    AgendaItem,
    Attendance,
    Case,
    Conference,
    ConferenceMember,
    DecisionRevision,
    Handoff,
    ImagingLink,
    OutcomeMeasure,
    SecondOpinionRequest,
    User,
)
from storage.tables import (
    AuditEvent as AuditLine,
)
from web.fhir import terminology as t

ARCHIVE_ENDPOINT = "archive"


@dataclass(frozen=True)
class Site:
    """Where the resources live: the site's address (``fullUrl`` and the room's link),
    the patient identifier system, and the image archive's DICOMweb root, if any."""

    base_url: str
    patient_system: str
    archive_url: str | None = None

    def full_url(self, kind: str, resource_id: str | int) -> str:
        return f"{self.base_url}/fhir/R4/{kind}/{resource_id}"

    def patient(self, case: Case) -> dict[str, Any]:
        return {"type": "Patient",
                "identifier": {"system": self.patient_system, "value": case.patient_ref}}


def person(user: User | None, user_id: int | None = None) -> dict[str, Any]:
    """A logical reference to a Casebridge user (identifier and name)."""
    key = user.id if user is not None else user_id
    found: dict[str, Any] = {"type": "Practitioner",
                             "identifier": {"system": t.USER_SYSTEM, "value": str(key)}}
    if user is not None:
        found["display"] = user.name
    return found


def _case_reference(case: Case) -> dict[str, Any]:
    return {"identifier": {"system": t.CASE_SYSTEM, "value": str(case.id)},
            "display": case.question}


def _concept(coding: dict[str, str], text: str | None = None) -> dict[str, Any]:
    return {"coding": [coding], "text": text or coding["display"]}


def _specialty(value: str) -> dict[str, Any]:
    known = {s.value: s for s in Specialty}
    label = SPECIALTY_LABELS[known[value]] if value in known else value
    return _concept(t.coding(t.SPECIALTY_SYSTEM, value, label))


# FHIR's order is routine < urgent < asap < stat: Casebridge's three keep their order.
PRIORITY = {Urgency.ROUTINE: "routine", Urgency.SOON: "urgent", Urgency.URGENT: "asap"}

REQUEST_STATUS = {
    RequestStatus.SUBMITTED: "active", RequestStatus.ACCEPTED: "active",
    RequestStatus.SCHEDULED: "active", RequestStatus.DISCUSSED: "active",
    RequestStatus.DECLINED: "revoked", RequestStatus.ANSWERED: "completed",
}


def service_request(site: Site, request: SecondOpinionRequest, case: Case,
                    requester: User | None, imaging: Sequence[ImagingLink]) -> ServiceRequest:
    """The referring clinician's request for the panel's second opinion."""
    body: dict[str, Any] = {
        "id": str(request.id),
        "identifier": [{"system": t.REQUEST_SYSTEM, "value": str(request.id)}],
        "status": REQUEST_STATUS[RequestStatus(request.status)],
        "intent": "order",
        "category": [_concept(t.CONSULTATION)],
        "priority": PRIORITY[Urgency(case.urgency)],
        "code": {"text": "Multidisciplinary spine case conference: second opinion"},
        "subject": site.patient(case),
        "authoredOn": request.submitted_at,
        "requester": person(requester, request.requested_by_id),
        # R4 allows one performerType: the wanted specialties are one concept.
        "performerType": {
            "coding": [_specialty(s)["coding"][0] for s in request.requested_specialties],
            "text": ", ".join(_specialty(s)["text"] for s in request.requested_specialties),
        } if request.requested_specialties else None,
        "reasonCode": [_concept(t.SECOND_OPINION)],
        "note": [{"text": case.question}],
        "supportingInfo": [{"reference": f"ImagingStudy/{i.id}"} for i in imaging] or None,
    }
    # The referrer's own chart number for the patient stays out: it identifies the
    # patient, and the pseudonymous reference is the only identity FHIR carries.
    return ServiceRequest.model_validate(body)


def _appointment_status(conf: Conference) -> str:
    if conf.cancelled_at is not None:
        return "cancelled"
    return {ConferenceStatus.DRAFT: "proposed", ConferenceStatus.PUBLISHED: "booked",
            ConferenceStatus.LIVE: "arrived",
            ConferenceStatus.CLOSED: "fulfilled"}[ConferenceStatus(conf.status)]


PARTICIPATION = {
    ConferenceRole.CHAIR: t.coding(t.V3_PARTICIPATION, "PPRF", "primary performer"),
    ConferenceRole.MEMBER: t.coding(t.V3_PARTICIPATION, "CON", "consultant"),
    ConferenceRole.GUEST: t.coding(t.V3_PARTICIPATION, "PART", "Participation"),
}


def appointment(site: Site, conf: Conference,
                members: Sequence[tuple[ConferenceMember, User]], attended: set[int],
                request_ids: Sequence[int]) -> Appointment:
    """The conference: when, who (accepted once seen in the room; Casebridge records no
    replies to invitations, so others are needs-action) and the room's address."""
    return Appointment.model_validate({
        "id": str(conf.id),
        "extension": [{"url": t.VIRTUAL_SERVICE, "extension": [
            {"url": "addressUrl", "valueUrl": f"{site.base_url}/conferences/{conf.id}/room"}]}],
        "status": _appointment_status(conf),
        "serviceCategory": [_concept(t.CONSULTATION)],
        "description": conf.title,
        "start": conf.starts_at,
        "end": conf.starts_at + timedelta(minutes=conf.duration_minutes),
        "minutesDuration": conf.duration_minutes,
        "created": conf.created_at,
        "basedOn": [{"reference": f"ServiceRequest/{i}"} for i in request_ids] or None,
        "participant": [
            {"type": [{"coding": [PARTICIPATION[ConferenceRole(member.conference_role)]]}],
             "actor": person(user),
             "required": "required" if member.conference_role != "guest" else "optional",
             "status": "accepted" if user.id in attended else "needs-action"}
            for member, user in members
        ] or [{"type": [{"text": "Conference members"}], "status": "needs-action"}],
    })


def _encounter_status(item: AgendaItem, conf: Conference) -> str:
    status = ItemStatus(item.status)
    if status is ItemStatus.DECIDED:
        return "finished"
    if status is ItemStatus.DISCUSSING:
        return "in-progress"
    if status is ItemStatus.DEFERRED or conf.status == ConferenceStatus.CLOSED:
        return "cancelled"
    return "planned"


def encounter(site: Site, item: AgendaItem, conf: Conference, case: Case,
              attendance: Sequence[Attendance], people: Mapping[int, User],
              request: SecondOpinionRequest | None) -> Encounter:
    """One case discussed at one conference; participants are who the room saw while
    the case was current, each with the time they were there."""
    period = {"start": item.started_at, "end": item.ended_at} if item.started_at else None
    return Encounter.model_validate({
        "id": str(item.id),
        "status": _encounter_status(item, conf),
        "class": t.VIRTUAL,
        "serviceType": _concept(t.CONSULTATION),
        "subject": site.patient(case),
        "basedOn": [{"reference": f"ServiceRequest/{request.id}"}] if request else None,
        "appointment": [{"reference": f"Appointment/{conf.id}"}],
        "participant": [
            {"type": [{"coding": [t.coding(t.V3_PARTICIPATION, "PART", "Participation")]}],
             "period": {"start": row.first_seen_at, "end": row.last_seen_at},
             "individual": person(people.get(row.user_id), row.user_id)}
            for row in attendance
        ] or None,
        "period": period,
        "reasonCode": [{"text": case.question}],
    })


def _activity(detail: dict[str, Any]) -> dict[str, Any]:
    return {"detail": detail}


def care_plan(site: Site, revision: DecisionRevision, first_signed_at: datetime, case: Case,
              people: Mapping[int, User], request: SecondOpinionRequest | None,
              handoffs: Sequence[Handoff], due_on: date | None = None) -> CarePlan:
    """One signed revision of the panel's decision, as version ``revision`` of the
    item's CarePlan: the outcome, why (description), the plan and the follow-up as
    activities, post-operative tasks as activities with their owners, dissent as notes."""
    outcome = Outcome(revision.outcome)
    activities = [_activity({
        "kind": "ServiceRequest" if outcome is not Outcome.OTHER else None,
        "code": _concept(t.coding(t.OUTCOME_SYSTEM, outcome.value, OUTCOME_LABELS[outcome])),
        "status": "not-started",
        "description": revision.plan,
        "performer": ([person(people.get(revision.responsible_clinician_id),
                              revision.responsible_clinician_id)]
                      if revision.responsible_clinician_id else None),
    })]
    if revision.follow_up_weeks:
        weeks = revision.follow_up_weeks
        activities.append(_activity({
            "kind": "Appointment", "status": "scheduled",
            "description": f"Back to the panel in {weeks} week{'s' if weeks != 1 else ''}",
            "scheduledPeriod": {"start": due_on or (revision.signed_at
                                                    + timedelta(weeks=weeks)).date()},
        }))
    for task in handoffs:
        activities.append(_activity({
            "kind": "Task", "status": "completed" if task.done_at else "not-started",
            "description": task.task,
            "scheduledPeriod": {"end": task.due_on},
            "performer": [person(people.get(task.owner_id), task.owner_id)]
            if task.owner_id else None,
        }))
    return CarePlan.model_validate({
        "id": str(revision.agenda_item_id),
        "meta": {"versionId": str(revision.revision), "lastUpdated": revision.signed_at},
        "status": "active",
        "intent": "plan",
        "category": [_concept(t.MULTIDISCIPLINARY)],
        "title": OUTCOME_LABELS[outcome],
        "description": revision.rationale,
        "subject": site.patient(case),
        "encounter": {"reference": f"Encounter/{revision.agenda_item_id}"},
        "basedOn": [{"reference": f"ServiceRequest/{request.id}"}] if request else None,
        "period": {"start": revision.signed_at},
        "created": first_signed_at,
        "author": person(people.get(revision.signed_by_id), revision.signed_by_id),
        "contributor": [person(people.get(uid), uid) for uid in revision.present_user_ids or []]
        or None,
        "addresses": [_case_reference(case)],
        "activity": activities,
        "note": [{"authorReference": person(people.get(d["user_id"]), d["user_id"]),
                  "text": d["opinion"]} for d in revision.dissent] or None,
    })


def provenance(revision: DecisionRevision, signer: User | None) -> Provenance:
    """Who signed which version of the CarePlan, and when; an amendment names its reason
    and the version it revises."""
    target = f"CarePlan/{revision.agenda_item_id}/_history/{revision.revision}"
    amended = revision.revision > 1
    return Provenance.model_validate({
        "id": str(revision.id),
        "target": [{"reference": target}],
        "occurredDateTime": revision.signed_at,
        "recorded": revision.signed_at,
        "activity": _concept(t.UPDATE if amended else t.CREATE,
                             "Amended" if amended else "Signed"),
        "reason": [{"text": revision.amendment_reason}] if revision.amendment_reason else None,
        "agent": [{"type": _concept(t.ATTESTER), "who": person(signer, revision.signed_by_id)}],
        "entity": [{"role": "revision", "what": {
            "reference": f"CarePlan/{revision.agenda_item_id}/_history/{revision.revision - 1}"}}]
        if amended else None,
        "signature": [{"type": [t.AUTHOR_SIGNATURE], "when": revision.signed_at,
                       "who": person(signer, revision.signed_by_id)}],
    })


DICOM_MODALITIES = {m for m in Modality} - {Modality.XR, Modality.OTHER}


def viewer_endpoint_id(link: ImagingLink) -> str:
    return f"viewer-{link.id}"


def imaging_study(site: Site, link: ImagingLink, case: Case) -> ImagingStudy:
    """A study the panel reviews, found in the archive by its UID over DICOMweb when one
    is configured, and opened in the site's viewer through its link."""
    endpoints = [{"reference": f"Endpoint/{viewer_endpoint_id(link)}"}]
    if link.study_instance_uid and site.archive_url:
        endpoints.insert(0, {"reference": f"Endpoint/{ARCHIVE_ENDPOINT}"})
    modality = Modality(link.modality)
    return ImagingStudy.model_validate({
        "id": str(link.id),
        "identifier": [{"system": t.DICOM_UID, "value": f"urn:oid:{link.study_instance_uid}"}]
        if link.study_instance_uid else None,
        "status": "available",
        "modality": [{"system": t.DICOM_DCM, "code": modality.value}]
        if modality in DICOM_MODALITIES else None,
        "subject": site.patient(case),
        "started": link.study_date,
        "endpoint": endpoints,
        "description": link.description or (None if modality in DICOM_MODALITIES
                                             else f"{modality.value} study"),
    })


def archive_endpoint(site: Site) -> Endpoint:
    """The hospital's image archive (DICOMweb WADO-RS); its credentials never appear."""
    assert site.archive_url is not None
    return Endpoint.model_validate({
        "id": ARCHIVE_ENDPOINT, "status": "active",
        "connectionType": t.WADO_RS, "name": "Image archive (DICOMweb)",
        "payloadType": [{"text": "DICOM WADO-RS"}],
        "payloadMimeType": ["application/dicom"],
        "address": site.archive_url,
    })


def viewer_endpoint(link: ImagingLink) -> Endpoint:
    """The study in the site's image viewer: an IHE Invoke Image Display link, or the
    viewer's own web address."""
    iid = "IHEInvokeImageDisplay" in link.url
    return Endpoint.model_validate({
        "id": viewer_endpoint_id(link), "status": "active",
        "connectionType": t.IHE_IID if iid else t.WEB_VIEWER, "name": "Image viewer",
        "payloadType": [{"text": "Image display"}],
        "payloadMimeType": ["text/html"],
        "address": link.url,
    })


def _quantity(row: OutcomeMeasure, score: Any) -> dict[str, Any]:
    if Instrument(row.instrument) in INDEXES:
        return {"value": score, "unit": "%", "system": t.UCUM, "code": "%"}
    return {"value": score, "unit": "score", "system": t.UCUM, "code": "{score}"}


def observation(site: Site, row: OutcomeMeasure, score: Any, case: Case,
                recorder: User | None) -> Observation:
    """A patient-reported outcome: the NRS pain ratings carry LOINC 72514-3 beside
    Casebridge's instrument code (which says back, leg, neck or arm)."""
    instrument = Instrument(row.instrument)
    codings = [t.coding(t.INSTRUMENT_SYSTEM, instrument.value, NAMES[instrument])]
    if instrument not in INDEXES:
        codings.insert(0, t.PAIN_NRS)
    answered_by_patient = row.outcome_link_id is not None
    return Observation.model_validate({
        "id": str(row.id),
        "status": "final",
        "category": [_concept(t.SURVEY)],
        "code": {"coding": codings, "text": NAMES[instrument]},
        "subject": site.patient(case),
        "effectiveDateTime": row.collected_on,
        "issued": row.recorded_at,
        "performer": [site.patient(case) if answered_by_patient
                      else person(recorder, row.recorded_by_id)]
        if answered_by_patient or row.recorded_by_id else None,
        "valueQuantity": _quantity(row, score),
        "note": [{"text": f"Timepoint: {row.timepoint}"}] if row.timepoint else None,
    })


def _network_type(address: str) -> str:
    """DICOM's network access point type: "2" an IP address, "1" a machine name."""
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return "1"
    return "2"


SUBTYPES = {AuditAction.VIEWED: "read", AuditAction.SEARCHED: "search",
            AuditAction.CREATED: "create",
            AuditAction.ADDED: "create"}


def audit_event(site: Site, line: AuditLine, actor: User | None,
                case: Case | None) -> AuditEvent:
    """One line of the audit trail after IHE Basic Audit Log Patterns: a RESTful
    operation (read, create or update), the person and their network address when the
    trail holds it, the server, the patient and the record."""
    action = AuditAction(line.action)
    interaction = line.detail.get("interaction") or SUBTYPES.get(action, "update")
    subtype = t.INTERACTIONS.get(interaction, interaction)
    user_agent: dict[str, Any] = {
        "type": _concept(t.HUMAN_USER), "requestor": True,
        "who": person(actor, line.actor_id) if line.actor_id is not None
        else {"display": f"Guest: {line.detail.get('guest', 'unknown')}"},
    }
    if line.detail.get("address"):
        user_agent["network"] = {"address": line.detail["address"],
                                 "type": _network_type(line.detail["address"])}
    host = urlsplit(site.base_url).hostname or "casebridge"
    entities: list[dict[str, Any]] = []
    if case is not None:
        entities.append({"what": site.patient(case), "type": t.PERSON_ENTITY,
                         "role": t.PATIENT_ROLE})
    resource = line.detail.get("resource")
    entities.append({
        "what": {"reference": resource} if resource else {"identifier": {
            "system": f"urn:casebridge:{line.entity}", "value": str(line.entity_id)}},
        "type": t.SYSTEM_OBJECT, "role": t.RESOURCE_ROLE,
        "description": f"{action.value} {str(line.entity).replace('_', ' ')}"
                       + (f" via {line.detail['via']}" if line.detail.get("via") else ""),
    })
    return AuditEvent.model_validate({
        "id": str(line.id),
        "type": t.REST,
        "subtype": [t.coding(t.RESTFUL_INTERACTION, subtype, subtype)],
        "action": t.ACTIONS.get(subtype, "U"),
        "recorded": line.at,
        "outcome": "0",
        "agent": [user_agent, {
            "type": _concept(t.DESTINATION_ROLE), "requestor": False,
            "who": {"display": "Casebridge"},
            "network": {"address": host, "type": _network_type(host)},
        }],
        "source": {"observer": {"display": f"Casebridge at {host}"},
                   "type": [t.APPLICATION_SERVER]},
        "entity": entities,
    })


def dump(resource: Resource) -> dict[str, Any]:
    """The resource as FHIR JSON (empty elements left out, as FHIR requires)."""
    return resource.model_dump(mode="json")
