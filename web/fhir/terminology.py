"""The code systems and codes Casebridge's FHIR resources promise, and the checks
that hold them to it.

``fhir.resources`` checks structure, not codes: it accepts any string as a status
and any digits as a SNOMED CT concept. The codes below are the promise; the
functions at the end check a serialised resource against it, including the check
digits that SNOMED CT identifiers (Verhoeff) and LOINC codes (mod 10) carry, and
the grammar of DICOM UIDs. The tests run every resource the server emits through
:func:`problems`; constants are checked once at import, so a mistyped code fails
loudly at start-up rather than in a hospital's interface engine.

Codes Casebridge defines itself (decision outcomes, specialties, instruments
without a LOINC code) use ``urn:casebridge:`` systems: stable, and never mistaken
for a standard terminology.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
V3_DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
V2_0336 = "http://terminology.hl7.org/CodeSystem/v2-0336"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONNECTION_TYPE = "http://terminology.hl7.org/CodeSystem/endpoint-connection-type"
PROVENANCE_AGENT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
DICOM_DCM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SECURITY_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
EXTRA_SECURITY_ROLE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
DICOM_UID = "urn:dicom:uid"

# Casebridge's own systems.
OUTCOME_SYSTEM = "urn:casebridge:decision-outcome"
SPECIALTY_SYSTEM = "urn:casebridge:specialty"
INSTRUMENT_SYSTEM = "urn:casebridge:outcome-instrument"
VIEWER_CONNECTION = "urn:casebridge:endpoint-connection-type"
USER_SYSTEM = "urn:casebridge:user"
CASE_SYSTEM = "urn:casebridge:case"
REQUEST_SYSTEM = "urn:casebridge:second-opinion-request"

# The R5 element carried into R4 by the cross-version extension.
VIRTUAL_SERVICE = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService"


def coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


CONSULTATION = coding(SNOMED, "11429006", "Consultation")
SECOND_OPINION = coding(V2_0336, "S", "Second Opinion")
MULTIDISCIPLINARY = coding(SNOMED, "312384001", "Multidisciplinary assessment")
VIRTUAL = coding(V3_ACT_CODE, "VR", "virtual")
SURVEY = coding(OBSERVATION_CATEGORY, "survey", "Survey")
WADO_RS = coding(CONNECTION_TYPE, "dicom-wado-rs", "DICOM WADO-RS")
IHE_IID = coding(CONNECTION_TYPE, "ihe-iid", "IHE IID")
WEB_VIEWER = coding(VIEWER_CONNECTION, "web-viewer", "Web image viewer")
# Pain severity on a 0-10 verbal numeric rating scale, reported: the NRS instruments.
# ODI and NDI have no LOINC code that Casebridge can vouch for; they carry ours only.
PAIN_NRS = coding(LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
AUTHOR_SIGNATURE = coding(SIGNATURE_TYPE, "1.2.840.10065.1.12.1.1", "Author's Signature")
ATTESTER = coding(PROVENANCE_AGENT, "attester", "Attester")
CREATE = coding(V3_DATA_OPERATION, "CREATE", "create")
UPDATE = coding(V3_DATA_OPERATION, "UPDATE", "revise")
REST = coding(AUDIT_EVENT_TYPE, "rest", "Restful Operation")
SOURCE_ROLE = coding(DICOM_DCM, "110153", "Source Role ID")
DESTINATION_ROLE = coding(DICOM_DCM, "110152", "Destination Role ID")
HUMAN_USER = coding(EXTRA_SECURITY_ROLE, "humanuser", "human user")
APPLICATION_SERVER = coding(SECURITY_SOURCE_TYPE, "4", "Application Server")
PERSON_ENTITY = coding(AUDIT_ENTITY_TYPE, "1", "Person")
SYSTEM_OBJECT = coding(AUDIT_ENTITY_TYPE, "2", "System Object")
PATIENT_ROLE = coding(OBJECT_ROLE, "1", "Patient")
RESOURCE_ROLE = coding(OBJECT_ROLE, "4", "Domain Resource")

INTERACTIONS = {"read": "read", "vread": "vread", "history": "history-instance",
                "create": "create", "update": "update", "search": "search-type"}
ACTIONS = {"read": "R", "vread": "R", "history-instance": "R", "search-type": "E",
           "create": "C", "update": "U"}

# The statuses each resource may carry (their bindings are required in R4).
STATUSES: Mapping[str, frozenset[str]] = {
    "ServiceRequest": frozenset({"draft", "active", "on-hold", "revoked", "completed",
                                 "entered-in-error", "unknown"}),
    "Appointment": frozenset({"proposed", "pending", "booked", "arrived", "fulfilled",
                              "cancelled", "noshow", "entered-in-error", "checked-in",
                              "waitlist"}),
    "Encounter": frozenset({"planned", "arrived", "triaged", "in-progress", "onleave",
                            "finished", "cancelled", "entered-in-error", "unknown"}),
    "CarePlan": frozenset({"draft", "active", "on-hold", "revoked", "completed",
                           "entered-in-error", "unknown"}),
    "ImagingStudy": frozenset({"registered", "available", "cancelled", "entered-in-error",
                               "unknown"}),
    "Endpoint": frozenset({"active", "suspended", "error", "off", "entered-in-error", "test"}),
    "Observation": frozenset({"registered", "preliminary", "final", "amended", "corrected",
                              "cancelled", "entered-in-error", "unknown"}),
}
PARTICIPANT_STATUSES = frozenset({"accepted", "declined", "tentative", "needs-action"})

_UID = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$")
_LOINC = re.compile(r"^([0-9]{1,7})-([0-9])$")
_SCTID = re.compile(r"^[1-9][0-9]{5,17}$")

_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def is_sctid(code: str) -> bool:
    """A well-formed SNOMED CT identifier: 6-18 digits whose last is a Verhoeff
    check digit over the whole."""
    if not _SCTID.match(code):
        return False
    check = 0
    for position, digit in enumerate(reversed(code)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][int(digit)]]
    return check == 0


def is_loinc(code: str) -> bool:
    """A well-formed LOINC code: digits, a hyphen and the mod 10 check digit."""
    found = _LOINC.match(code)
    if not found:
        return False
    total = 0
    for position, digit in enumerate(reversed(found.group(1))):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return (10 - total % 10) % 10 == int(found.group(2))


def is_dicom_uid(uid: str) -> bool:
    """A DICOM UID: dot-separated numbers without leading zeros, at most 64 characters."""
    return len(uid) <= 64 and bool(_UID.match(uid))


def _codings(node: Any) -> Iterator[dict[str, Any]]:
    """Every Coding anywhere in a serialised resource."""
    if isinstance(node, dict):
        if "code" in node and "system" in node and isinstance(node["code"], str):
            yield node
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _codings(value)


def _has(concepts: list[dict[str, Any]] | None, wanted: dict[str, str]) -> bool:
    return any(c.get("system") == wanted["system"] and c.get("code") == wanted["code"]
               for concept in concepts or [] for c in concept.get("coding", []))


def _promised(resource: dict[str, Any]) -> Iterator[str]:
    kind = str(resource.get("resourceType"))
    if kind in STATUSES and resource.get("status") not in STATUSES[kind]:
        yield f"{kind}.status {resource.get('status')!r} is not in its value set"
    if kind == "ServiceRequest":
        if resource.get("intent") != "order":
            yield "ServiceRequest.intent is not 'order'"
        if not _has(resource.get("category"), CONSULTATION):
            yield "ServiceRequest.category lacks SNOMED CT 11429006"
        if not _has(resource.get("reasonCode"), SECOND_OPINION):
            yield "ServiceRequest.reasonCode lacks v2-0336 S"
    elif kind == "Encounter":
        klass = resource.get("class", {})
        if (klass.get("system"), klass.get("code")) != (VIRTUAL["system"], VIRTUAL["code"]):
            yield "Encounter.class is not v3-ActCode VR"
    elif kind == "CarePlan":
        if resource.get("intent") != "plan":
            yield "CarePlan.intent is not 'plan'"
        if not _has(resource.get("category"), MULTIDISCIPLINARY):
            yield "CarePlan.category lacks SNOMED CT 312384001"
    elif kind == "Appointment":
        for participant in resource.get("participant", []):
            if participant.get("status") not in PARTICIPANT_STATUSES:
                yield f"Appointment.participant.status {participant.get('status')!r}"
    elif kind == "ImagingStudy":
        for identifier in resource.get("identifier", []):
            value = identifier.get("value", "")
            if identifier.get("system") != DICOM_UID or not value.startswith("urn:oid:") \
                    or not is_dicom_uid(value.removeprefix("urn:oid:")):
                yield f"ImagingStudy.identifier {value!r} is not urn:dicom:uid urn:oid:<UID>"
    elif kind == "AuditEvent":
        if not (resource.get("type", {}).get("system") == REST["system"]
                and resource.get("type", {}).get("code") == REST["code"]):
            yield "AuditEvent.type is not rest"
        if resource.get("action") not in set(ACTIONS.values()):
            yield f"AuditEvent.action {resource.get('action')!r}"
        if not any(agent.get("network", {}).get("address") for agent in resource["agent"]):
            yield "AuditEvent has no agent with a network address"


def problems(resource: dict[str, Any]) -> list[str]:
    """What in a serialised resource breaks a promise above: a status outside its value
    set, a promised code missing, a SNOMED CT or LOINC code whose check digit is wrong,
    a DICOM UID out of grammar. Empty when all is well. Contained resources and Bundle
    entries are checked too."""
    found = list(_promised(resource))
    for entry in resource.get("entry", []):
        found += problems(entry.get("resource", {}))
    for contained in resource.get("contained", []):
        found += problems(contained)
    for c in _codings({k: v for k, v in resource.items() if k not in ("entry", "contained")}):
        if c["system"] == SNOMED and not is_sctid(c["code"]):
            found.append(f"SNOMED CT code {c['code']!r} fails its check digit")
        if c["system"] == LOINC and not is_loinc(c["code"]):
            found.append(f"LOINC code {c['code']!r} fails its check digit")
    return found


for _code in (CONSULTATION, MULTIDISCIPLINARY):
    assert is_sctid(_code["code"]), _code
assert is_loinc(PAIN_NRS["code"]), PAIN_NRS
