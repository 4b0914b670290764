"""People, their roles and specialties, and their roles within one conference."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from conference.errors import InvalidInput, gather


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    SPECIALIST = "specialist"
    REFERRING_CLINICIAN = "referring_clinician"


class Specialty(StrEnum):
    NEUROSURGERY = "neurosurgery"
    ORTHOPEDIC_SPINE = "orthopedic_spine"
    PAIN_MEDICINE = "pain_medicine"
    PHYSICAL_THERAPY = "physical_therapy"
    PRIMARY_CARE = "primary_care"
    RADIOLOGY = "radiology"
    OTHER = "other"


class ConferenceRole(StrEnum):
    CHAIR = "chair"
    MEMBER = "member"
    GUEST = "guest"


SURGICAL = frozenset({Specialty.NEUROSURGERY, Specialty.ORTHOPEDIC_SPINE})
NON_SURGICAL = frozenset(
    {Specialty.PAIN_MEDICINE, Specialty.PHYSICAL_THERAPY, Specialty.PRIMARY_CARE}
)

SPECIALTY_LABELS = {
    Specialty.NEUROSURGERY: "Neurosurgery",
    Specialty.ORTHOPEDIC_SPINE: "Orthopedic spine surgery",
    Specialty.PAIN_MEDICINE: "Pain medicine",
    Specialty.PHYSICAL_THERAPY: "Physical therapy",
    Specialty.PRIMARY_CARE: "Primary care",
    Specialty.RADIOLOGY: "Radiology",
    Specialty.OTHER: "Other",
}

# Deliberately loose: one "@", a dot in the domain, no spaces. Real checking is
# the mail that reaches the person; this only catches typing slips.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Attendee:
    """Who was in the room, as far as the quorum rule cares."""

    user_id: int
    role: Role
    specialty: Specialty | None


def normalize_email(email: str) -> str:
    """Return ``email`` trimmed and lower-cased, or raise :class:`InvalidInput`."""
    value = email.strip().lower()
    if not _EMAIL.match(value) or len(value) > 254:
        raise InvalidInput(f"{email!r} is not an email address.", field="email")
    return value


def check_person(*, name: str, role: Role, specialty: Specialty | None) -> None:
    """A person needs a name, and a specialist needs a specialty (both said at once)."""

    def named() -> None:
        if not name.strip():
            raise InvalidInput("A name is required.", field="name")
        if len(name) > 200:
            raise InvalidInput("A name is at most 200 characters.", field="name")

    def specialised() -> None:
        if role is Role.SPECIALIST and specialty is None:
            raise InvalidInput("A specialist needs a specialty.", field="specialty")

    gather(named, specialised)


MAX_CREDENTIALS = 100


def check_credentials(value: str) -> str:
    """The letters after a signer's name ("MD, FRCSC"), trimmed; one short line."""
    value = value.strip()
    if len(value) > MAX_CREDENTIALS or any(c in value for c in "\r\n\t"):
        raise InvalidInput(f"Credentials are one line of at most {MAX_CREDENTIALS} "
                           "characters, e.g. MD, FRCSC.", field="credentials")
    return value


def check_password(password: str) -> None:
    """Passwords are at least 10 characters: long beats clever (NIST SP 800-63B 5.1.1)."""
    if len(password) < 10:
        raise InvalidInput("A password needs at least 10 characters.", field="password")
    if len(password) > 1024:
        raise InvalidInput("A password is at most 1024 characters.", field="password")


def check_admins_remain(*, active_admins_after: int) -> None:
    """A change that would leave no active administrator is refused: nobody could
    then manage people any more (lock-out by a slip of the hand)."""
    if active_admins_after < 1:
        raise InvalidInput("Casebridge needs at least one active administrator; "
                           "make someone else an administrator first.", field="role")
