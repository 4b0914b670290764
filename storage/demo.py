"""The demo data set: a weekly spine conference a clinician would recognise.

Cases follow real spine-care pathways: conservative care that plateaued, stenosis
after failed epidural injections, cervical myelopathy, a failed fusion, a
post-operative check, and a rural clinician's requests for a second opinion.
Patient references are pseudonymous codes, as in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from conference.cases import (
    CareEntry,
    CaseDetails,
    Sex,
    TreatmentKind,
    TreatmentResponse,
    Urgency,
)
from conference.conferences import ConferenceStatus
from conference.imaging import Modality
from conference.people import ConferenceRole, Role, Specialty
from storage import agenda, cases, conferences, referrals, users
from storage.clock import utcnow
from storage.tables import User

DEMO_PASSWORD = "casebridge-demo"

K, R = TreatmentKind, TreatmentResponse


@dataclass(frozen=True)
class Login:
    email: str
    name: str
    role: str


PEOPLE = [
    ("admin@casebridge.example", "Avery Admin", Role.ADMIN, None),
    ("coordinator@casebridge.example", "Sam Rivera", Role.COORDINATOR, None),
    ("okafor@casebridge.example", "Dr. Amara Okafor", Role.SPECIALIST, Specialty.NEUROSURGERY),
    ("brooks@casebridge.example", "Dr. Daniel Brooks", Role.SPECIALIST,
     Specialty.ORTHOPEDIC_SPINE),
    ("raman@casebridge.example", "Dr. Priya Raman", Role.SPECIALIST, Specialty.PAIN_MEDICINE),
    ("lee@casebridge.example", "Jordan Lee, DPT", Role.SPECIALIST, Specialty.PHYSICAL_THERAPY),
    ("petrova@casebridge.example", "Dr. Elena Petrova", Role.SPECIALIST, Specialty.PRIMARY_CARE),
    ("nguyen@casebridge.example", "Dr. Thomas Nguyen", Role.SPECIALIST, Specialty.RADIOLOGY),
    ("hale@ridgeview-clinic.example", "Dr. Martha Hale (Ridgeview Rural Clinic)",
     Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE),
]

# What the signed letters print after the name.
CREDENTIALS = {"okafor": "MD, FRCSC", "brooks": "MD, FRCSC", "raman": "MD, FRCPC",
               "petrova": "MD, CCFP", "nguyen": "MD, FRCPC", "hale": "MD, CCFP"}


def _d(days_ago: int, today: date) -> date:
    return today - timedelta(days=days_ago)


def _cases(today: date) -> list[tuple[CaseDetails, int, list[tuple[str, Modality, int, str]]]]:
    """(details, planned minutes, imaging) for each conference case."""
    return [
        (CaseDetails(
            patient_ref="SPN-2026-0117", age=58, sex=Sex.FEMALE, urgency=Urgency.ROUTINE,
            summary="Chronic mechanical low back pain for 14 months. No radicular signs. "
                    "Lumbar range of motion plateaued after 8 weeks of physical therapy.",
            question="Range of motion has plateaued in PT: refer to pain management for "
                     "medial branch blocks, or continue a modified PT programme?",
            eases="Walking, heat, lying supine", worsens="Prolonged sitting, lifting",
            care_history=(
                CareEntry(K.MEDICATION, "Naproxen 500 mg twice daily", _d(420, today),
                          _d(330, today), R.IMPROVED, "Partial relief; stopped for dyspepsia"),
                CareEntry(K.PHYSICAL_THERAPY, "16 sessions: McKenzie, core stabilisation",
                          _d(120, today), _d(60, today), R.UNCHANGED,
                          "Flexion 40 to 55 degrees by week 4, no further gain"),
            )), 10, [("MR", Modality.MR, 150, "Lumbar MRI: L4-5, L5-S1 disc desiccation")]),
        (CaseDetails(
            patient_ref="SPN-2026-0142", age=71, sex=Sex.MALE, urgency=Urgency.SOON,
            summary="Neurogenic claudication, walking distance down to 150 m. Moderate-to-"
                    "severe central stenosis L3-4 and L4-5. Two epidural steroid injections "
                    "gave less than three weeks of relief each.",
            question="Decompression alone, or decompression with fusion given the grade 1 "
                     "L4-5 spondylolisthesis?",
            eases="Sitting, leaning on a shopping cart", worsens="Standing, walking downhill",
            care_history=(
                CareEntry(K.PHYSICAL_THERAPY, "Flexion-based programme, 10 sessions",
                          _d(300, today), _d(240, today), R.UNCHANGED),
                CareEntry(K.INJECTION, "L4-5 interlaminar epidural steroid injection",
                          _d(180, today), _d(180, today), R.IMPROVED, "Relief for 3 weeks"),
                CareEntry(K.INJECTION, "L3-4 transforaminal epidural steroid injection",
                          _d(90, today), _d(90, today), R.UNCHANGED),
                CareEntry(K.MEDICATION, "Gabapentin 300 mg three times daily",
                          _d(200, today), None, R.UNCHANGED, "Drowsy; wants to stop"),
            )), 20, [("MR", Modality.MR, 60, "Lumbar MRI: L3-5 stenosis"),
                     ("XR", Modality.XR, 60, "Flexion-extension radiographs")]),
        (CaseDetails(
            patient_ref="SPN-2026-0155", age=64, sex=Sex.MALE, urgency=Urgency.URGENT,
            summary="Six months of hand clumsiness and unsteady gait; positive Hoffmann sign "
                    "bilaterally. MRI: C5-6 and C6-7 cord compression with T2 signal change. "
                    "mJOA 12 (moderate myelopathy).",
            question="Anterior or posterior decompression, and how soon?",
            eases="Nothing reliably", worsens="Fine motor tasks, walking in the dark",
            care_history=(
                CareEntry(K.PHYSICAL_THERAPY, "Balance training, 4 sessions", _d(60, today),
                          _d(40, today), R.WORSE, "Stopped: progression of symptoms"),
            )), 20, [("MR", Modality.MR, 20, "Cervical MRI with cord signal change")]),
        (CaseDetails(
            patient_ref="SPN-2026-0163", age=52, sex=Sex.FEMALE, urgency=Urgency.SOON,
            summary="Persistent axial pain 14 months after L5-S1 TLIF. CT suggests nonunion "
                    "with lucency around the S1 screws. Smoker, HbA1c 7.9.",
            question="Revision fusion now, or optimise smoking and diabetes first?",
            eases="Lying on her side", worsens="Standing from sitting, bending",
            care_history=(
                CareEntry(K.SURGERY, "L5-S1 transforaminal lumbar interbody fusion",
                          _d(430, today), _d(430, today), R.UNCHANGED),
                CareEntry(K.PHYSICAL_THERAPY, "Post-operative rehabilitation, 12 weeks",
                          _d(400, today), _d(316, today), R.UNCHANGED),
                CareEntry(K.MEDICATION, "Tramadol as needed", _d(300, today), None,
                          R.UNCHANGED),
            )), 15, [("CT", Modality.CT, 30, "Lumbar CT: possible pseudarthrosis L5-S1")]),
        (CaseDetails(
            patient_ref="SPN-2026-0171", age=39, sex=Sex.MALE, urgency=Urgency.ROUTINE,
            summary="Eight weeks after L4-5 microdiscectomy for left L5 radiculopathy. Leg pain "
                    "resolved; mild back stiffness. Warehouse worker asking about return to "
                    "lifting duties.",
            question="Post-operative rehabilitation check: cleared for graded return to work?",
            eases="Activity, stretching", worsens="Morning stiffness",
            care_history=(
                CareEntry(K.SURGERY, "Left L4-5 microdiscectomy", _d(56, today),
                          _d(56, today), R.IMPROVED),
                CareEntry(K.PHYSICAL_THERAPY, "Post-operative rehabilitation, 6 sessions",
                          _d(42, today), None, R.IMPROVED),
            )), 10, []),
        (CaseDetails(
            patient_ref="SPN-2026-0188", age=68, sex=Sex.FEMALE, urgency=Urgency.ROUTINE,
            summary="Adult degenerative scoliosis, 28-degree lumbar curve, lateral listhesis "
                    "L3-4, right L4 radicular pain. Good bone density on DEXA.",
            question="Is a limited decompression reasonable, or does she need a deformity "
                     "correction? Co-management between neurosurgery and orthopedics?",
            eases="Sitting", worsens="Standing more than 10 minutes",
            care_history=(
                CareEntry(K.PHYSICAL_THERAPY, "Schroth-based programme", _d(200, today),
                          _d(120, today), R.UNCHANGED),
                CareEntry(K.INJECTION, "Right L4 transforaminal injection", _d(100, today),
                          _d(100, today), R.IMPROVED, "Six weeks of relief"),
            )), 15, [("XR", Modality.XR, 45, "Standing full-spine radiographs")]),
    ]


def _request(today: date) -> CaseDetails:
    return CaseDetails(
        patient_ref="RRC-88412", age=45, sex=Sex.MALE, urgency=Urgency.SOON,
        summary="Farmer with 10 weeks of right L5 radicular pain and new mild ankle "
                "dorsiflexion weakness (4/5). Nearest spine surgeon is 3 hours away.",
        question="Does the new weakness need surgical decompression, or can we continue "
                 "conservative care locally with close follow-up?",
        eases="Lying with knees bent", worsens="Coughing, driving the tractor",
        care_history=(
            CareEntry(K.MEDICATION, "Prednisone taper, then naproxen", _d(60, today),
                      _d(40, today), R.IMPROVED, "Pain better, weakness unchanged"),
            CareEntry(K.PHYSICAL_THERAPY, "Home exercise programme by video visit",
                      _d(40, today), None, R.UNCHANGED),
        ))


def _second_request(today: date) -> CaseDetails:
    return CaseDetails(
        patient_ref="RRC-88530", age=78, sex=Sex.FEMALE, urgency=Urgency.SOON,
        summary="Osteoporotic T12 compression fracture after a fall 5 weeks ago; 25% height "
                "loss, no neurological deficit. Pain still limits walking despite bracing.",
        question="Is she a candidate for kyphoplasty, or continue bracing and analgesia?",
        eases="Lying flat", worsens="Standing up, turning in bed",
        care_history=(
            CareEntry(K.OTHER, "Thoracolumbar brace", _d(35, today), None, R.UNCHANGED),
            CareEntry(K.MEDICATION, "Acetaminophen and calcitonin nasal spray",
                      _d(35, today), None, R.IMPROVED),
        ))


def load_demo(session: Session, *, now: datetime | None = None) -> list[Login]:
    """Load the demo set into an empty database; return the logins to print."""
    at = now or utcnow()
    today = at.date()
    people: dict[str, User] = {}
    for email, name, role, specialty in PEOPLE:
        key = email.split("@")[0]
        people[key] = users.create_user(
            session, email=email, name=name, role=role, specialty=specialty,
            credentials=CREDENTIALS.get(key, ""), password=DEMO_PASSWORD, now=at)
    coord, chair = people["coordinator"], people["okafor"]
    tz = ZoneInfo("America/Chicago")
    # The demo meeting is about to start (on the next quarter hour at least 20 minutes
    # away), so whoever tries the demo can open the room, run it and sign at once.
    soon = at.astimezone(tz) + timedelta(minutes=20)
    starts = (soon + timedelta(minutes=-soon.minute % 15)).replace(second=0, microsecond=0)
    assert chair.id is not None
    conf = conferences.create_conference(
        session, actor=coord, title="Weekly multidisciplinary spine conference",
        starts_at=starts, duration_minutes=90, chair_id=chair.id, now=at)
    assert conf.id is not None
    for key in ("brooks", "raman", "lee", "petrova", "nguyen"):
        conferences.add_member(session, actor=coord, conference_id=conf.id,
                               user_id=people[key].id or 0,
                               conference_role=ConferenceRole.MEMBER, now=at)
    conferences.add_member(session, actor=coord, conference_id=conf.id,
                           user_id=people["hale"].id or 0, conference_role=ConferenceRole.GUEST,
                           now=at)
    for details, minutes, imaging in _cases(today):
        case = cases.create_case(session, actor=coord, details=details, now=at)
        assert case.id is not None
        for slug, modality, days_ago, description in imaging:
            cases.add_imaging(
                session, actor=coord, case_id=case.id, modality=modality,
                url=f"https://pacs.example-hospital.org/viewer/{details.patient_ref}/{slug}",
                study_date=_d(days_ago, today), description=description, now=at)
        agenda.add_item(session, actor=coord, conference_id=conf.id, case_id=case.id,
                        planned_minutes=minutes, now=at)
    hale = people["hale"]
    scheduled = referrals.submit(session, actor=hale, details=_request(today),
                                 requested_specialties=[Specialty.NEUROSURGERY,
                                                        Specialty.PHYSICAL_THERAPY],
                                 referrer_patient_id="RRC 0044712", now=at)
    assert scheduled.id is not None
    referrals.schedule(session, actor=coord, request_id=scheduled.id, conference_id=conf.id,
                       planned_minutes=15, now=at)
    referrals.submit(session, actor=hale, details=_second_request(today),
                     requested_specialties=[Specialty.ORTHOPEDIC_SPINE,
                                            Specialty.PAIN_MEDICINE], now=at)
    conferences.set_status(session, actor=coord, conference_id=conf.id,
                           status=ConferenceStatus.PUBLISHED, now=at)
    return [Login(email, name, role.value) for email, name, role, _ in PEOPLE]
