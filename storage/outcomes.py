"""Outcome measures of a case, and the patients' single-use links to answer them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from conference import outcomes
from conference.audit import AuditAction, Entity
from conference.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from conference.mail import MailKind
from conference.outcomes import Instrument, Timepoint
from storage import audit, cases, notifications, outbox
from storage.clock import utcnow
from storage.tables import OutcomeLink, OutcomeMeasure, User

DEFAULT_LINK_HOURS = 7 * 24
MAX_LINK_HOURS = 60 * 24


@dataclass(frozen=True)
class Measured:
    """A stored measure with its change from the case's baseline for that instrument."""

    row: OutcomeMeasure
    score: Decimal
    change_from_baseline: Decimal
    mcid_reached: bool


def _score(row: OutcomeMeasure) -> Decimal:
    """The stored score as shown: ODI/NDI to one decimal (42.2), a rating whole (7)."""
    return _value(row.instrument, row.score_tenths)


def _value(instrument: str, score_tenths: int) -> Decimal:
    if Instrument(instrument) in outcomes.INDEXES:
        return Decimal(score_tenths).scaleb(-1)
    return Decimal(score_tenths // 10)


def _check_timepoint(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return Timepoint(value).value
    except ValueError:
        known = ", ".join(t.value for t in Timepoint)
        raise InvalidInput(f"Unknown time point {value!r}: use one of {known}.",
                           field="timepoint") from None


def _store(session: Session, *, case_id: int, instrument: Instrument, collected_on: date,
           timepoint: str | None, answers: Sequence[int | None] | None,
           total: Decimal | int | float | None, recorded_by: int | None,
           link_id: int | None, now: datetime) -> OutcomeMeasure:
    scored = outcomes.score(instrument, answers=answers, total=total)
    row = OutcomeMeasure(
        case_id=case_id, instrument=instrument.value, timepoint=_check_timepoint(timepoint),
        collected_on=collected_on, answers=list(answers) if answers is not None else None,
        score_tenths=int(scored.value * 10), answered=scored.answered,
        recorded_by_id=recorded_by, outcome_link_id=link_id, recorded_at=now)
    session.add(row)
    session.flush()
    return row


def record(session: Session, *, actor: User, case_id: int, instrument: str,
           collected_on: date, timepoint: str | None = None,
           answers: Sequence[int | None] | None = None,
           total: Decimal | int | float | None = None, now: datetime | None = None
           ) -> OutcomeMeasure:
    """Staff enter a measure (item by item, or the total from a paper form)."""
    case = cases.get_case(session, case_id)
    if not cases.may_view(session, viewer=actor, case=case):
        raise NotFound(f"No case with id {case_id}.")
    if not cases.on_care_team(session, user=actor, case=case):
        raise PermissionDenied("Only the people caring for this patient record outcomes.")
    at = now or utcnow()
    kind = outcomes.instrument_of(instrument)
    outcomes.check_collected(collected_on, today=at.date())
    row = _store(session, case_id=case_id, instrument=kind, collected_on=collected_on,
                 timepoint=timepoint, answers=answers, total=total, recorded_by=actor.id,
                 link_id=None, now=at)
    assert row.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.CREATED,
                 entity=Entity.OUTCOME, entity_id=row.id, case_id=case_id,
                 detail={"instrument": kind.value}, now=at)
    return row


def series(session: Session, *, viewer: User, case_id: int) -> list[Measured]:
    """Every measure of the case, oldest first, each against its instrument's
    baseline (the measure marked baseline, else the instrument's first)."""
    case = cases.get_case(session, case_id)
    if not cases.may_view(session, viewer=viewer, case=case):
        raise NotFound(f"No case with id {case_id}.")
    return measured(session, case_id)


def measured(session: Session, case_id: int) -> list[Measured]:
    return measured_many(session, [case_id]).get(case_id, [])


def measured_many(session: Session, case_ids: Iterable[int]) -> dict[int, list[Measured]]:
    """Each case's measures, oldest first, against its instruments' baselines; one query."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    rows = list(session.exec(select(OutcomeMeasure).where(col(OutcomeMeasure.case_id).in_(ids))
                             .order_by(col(OutcomeMeasure.case_id),
                                       col(OutcomeMeasure.collected_on),
                                       col(OutcomeMeasure.id))))
    baselines: dict[tuple[int, str], Decimal] = {}
    for row in rows:
        key = (row.case_id, row.instrument)
        if row.timepoint == Timepoint.BASELINE.value and key not in baselines:
            baselines[key] = _score(row)
    for row in rows:
        baselines.setdefault((row.case_id, row.instrument), _score(row))
    out: dict[int, list[Measured]] = {}
    for row in rows:
        value = _score(row)
        moved = outcomes.change(Instrument(row.instrument), value,
                                baselines[(row.case_id, row.instrument)])
        out.setdefault(row.case_id, []).append(
            Measured(row, value, moved.from_baseline or Decimal(0), bool(moved.mcid_reached)))
    return out


def improved_since(session: Session, decided_on: Mapping[int, date],
                   cases_query: Select[Any]) -> set[int]:
    """The cases (of ``cases_query``, a select of case ids) with a measure on or after
    their decision date (``decided_on``) that improved clinically importantly on the
    case's baseline for that instrument. Read as plain columns, for analytics over
    thousands of cases; the same rules as :func:`measured_many`."""
    rows = session.execute(sa_select(
        col(OutcomeMeasure.case_id), col(OutcomeMeasure.instrument),
        col(OutcomeMeasure.timepoint), col(OutcomeMeasure.collected_on),
        col(OutcomeMeasure.score_tenths)).where(
        col(OutcomeMeasure.case_id).in_(cases_query.scalar_subquery())).order_by(
        col(OutcomeMeasure.case_id), col(OutcomeMeasure.collected_on),
        col(OutcomeMeasure.id))).all()
    baseline_point = Timepoint.BASELINE.value  # (looked up once: 30,000 rows go by)
    baselines: dict[tuple[int, str], int] = {}
    for case_id, instrument, timepoint, _, tenths in rows:
        if timepoint == baseline_point and (case_id, instrument) not in baselines:
            baselines[case_id, instrument] = tenths
    for case_id, instrument, _, _, tenths in rows:
        baselines.setdefault((case_id, instrument), tenths)
    kinds = {i.value: i for i in Instrument}
    better: set[int] = set()
    for case_id, instrument, _, collected_on, tenths in rows:
        since = decided_on.get(case_id)
        baseline = baselines[case_id, instrument]
        if case_id in better or since is None or collected_on < since \
                or tenths >= baseline:  # no lower (better) score: no improvement
            continue
        moved = outcomes.change(kinds[instrument], _value(instrument, tenths),
                                _value(instrument, baseline))
        if moved.mcid_reached:
            better.add(case_id)
    return better


# -- the patient's link ------------------------------------------------------------


def create_link(session: Session, *, actor: User, case_id: int, instruments: Sequence[str],
                timepoint: str | None = None, lifetime: timedelta | None = None,
                now: datetime | None = None) -> OutcomeLink:
    case = cases.get_case(session, case_id)
    if not cases.may_view(session, viewer=actor, case=case):
        raise NotFound(f"No case with id {case_id}.")
    if not cases.on_care_team(session, user=actor, case=case):
        raise PermissionDenied("Only the people caring for this patient send questionnaires.")
    if not instruments:
        raise InvalidInput("Choose at least one questionnaire.", field="instruments")
    kinds = list(dict.fromkeys(outcomes.instrument_of(i).value for i in instruments))
    hours = lifetime or timedelta(hours=DEFAULT_LINK_HOURS)
    if not timedelta(hours=1) <= hours <= timedelta(hours=MAX_LINK_HOURS):
        raise InvalidInput(f"A link lasts 1 to {MAX_LINK_HOURS} hours.",
                           field="expires_in_hours")
    at = now or utcnow()
    link = OutcomeLink(case_id=case_id, instruments=kinds, timepoint=_check_timepoint(timepoint),
                       created_by_id=actor.id, created_at=at, expires_at=at + hours)
    session.add(link)
    session.flush()
    assert link.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.CREATED,
                 entity=Entity.OUTCOME_LINK, entity_id=link.id, case_id=case_id, now=at)
    return link


def mail_link(session: Session, *, actor: User, link: OutcomeLink, path: str,
              now: datetime | None = None) -> User:
    """Mail the patient's questionnaire address (``path``, with its token) to the case's
    referring clinician, who passes it on: Casebridge keeps no patient contact details.
    The mail says only whose questionnaire it is (the pseudonymous reference) and until
    when it works."""
    case = cases.get_case(session, link.case_id)
    referrer = session.get(User, case.requested_by_id) if case.requested_by_id else None
    if referrer is None or not referrer.active:
        raise Conflict("This case has no referring clinician with an account to mail the "
                       "link to: copy it and pass it on yourself.", code="no_referrer")
    at = now or utcnow()
    ref = case.patient_ref
    until = f"{link.expires_at.astimezone(UTC):%d %b %Y %H:%M} UTC"
    outbox.enqueue(session, to=referrer, kind=MailKind.QUESTIONNAIRE, now=at,
                   subject=f"A questionnaire for your patient ({ref})",
                   text=f"{actor.name} asks your patient {ref} to answer a short questionnaire "
                        "before their follow-up review. Please pass the link below on to them: "
                        f"it works once, until {until}, and shows them nothing but the "
                        "questions.",
                   link=path)
    notifications.notify(session, user_id=referrer.id or 0, kind="questionnaire", now=at,
                         text=f"A questionnaire for {ref} was mailed to you to pass on to "
                              "your patient.", link=f"/cases/{case.id}#outcomes")
    audit.record(session, actor_id=actor.id, action=AuditAction.UPDATED,
                 entity=Entity.OUTCOME_LINK, entity_id=link.id or 0, case_id=case.id,
                 detail={"mailed_to": referrer.id}, now=at)
    return referrer


def open_link(session: Session, link_id: int, *, now: datetime | None = None) -> OutcomeLink:
    """The link, if it can still be answered; :class:`NotAuthenticated` saying why not."""
    link = session.get(OutcomeLink, link_id)
    at = now or utcnow()
    if link is None:
        raise NotAuthenticated("This questionnaire link is not valid.")
    if link.used_at is not None:
        raise NotAuthenticated("These questionnaires have already been answered: thank you. "
                               "The link works only once.")
    if link.expires_at <= at:
        raise NotAuthenticated("This questionnaire link has expired. Ask the clinic for a "
                               "new one.")
    return link


def answer_link(session: Session, *, link_id: int,
                answers: Mapping[str, Sequence[int | None] | int],
                now: datetime | None = None) -> list[OutcomeMeasure]:
    """The patient's answers to every questionnaire of the link, stored at once; the
    link is then used up. Nothing is stored if anything is refused."""
    at = now or utcnow()
    link = open_link(session, link_id, now=at)
    rows = []
    for name in link.instruments:
        kind = Instrument(name)
        given = answers.get(name)
        if given is None:
            raise InvalidInput("Please answer every questionnaire.", field=name)
        index = kind in outcomes.INDEXES
        rows.append(_store(
            session, case_id=link.case_id, instrument=kind, collected_on=at.date(),
            timepoint=link.timepoint,
            answers=given if index and not isinstance(given, int) else None,
            total=None if index else given,  # type: ignore[arg-type]
            recorded_by=None, link_id=link.id, now=at))
    link.used_at = at
    session.add(link)
    audit.record(session, actor_id=None, action=AuditAction.CREATED, entity=Entity.OUTCOME_LINK,
                 entity_id=link.id or 0, case_id=link.case_id,
                 detail={"answered_by": "patient", "instruments": link.instruments}, now=at)
    return rows
