"""Imaging links: where a study lives in the hospital's viewer (PACS), never the pixels.

A link is shown to every member of the panel and opened in their browser, so it
must not be a way to run script (``javascript:``), smuggle content (``data:``),
leak a password (``https://user:pw@host``) or point at an unexpected host.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from enum import StrEnum
from urllib.parse import urlsplit

from conference.errors import ImagingLinkRejected, InvalidInput


class Modality(StrEnum):
    """DICOM modality codes (PS3.3 C.7.3.1.1.1) a spine team meets, plus "other"."""

    MR = "MR"
    CT = "CT"
    XR = "XR"  # plain radiographs: DICOM CR/DX, named as clinicians say it
    CR = "CR"
    DX = "DX"
    NM = "NM"
    PT = "PT"
    US = "US"
    EMG = "EMG"
    OTHER = "other"


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_URL_LENGTH = 2048

# DICOM UIDs: dot-separated numeric components, no leading zeros, at most 64
# characters (PS3.5 section 9.1).
_UID = re.compile(r"^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$")


def check_imaging_url(
    url: str,
    *,
    allowed_hosts: Collection[str] | None = None,
    allow_loopback_http: bool = False,
) -> str:
    """Return ``url`` if it is safe to show to the panel; otherwise raise
    :class:`ImagingLinkRejected` with a reason code.

    Only ``https`` links are accepted, plus ``http`` to a loopback host in
    development (``allow_loopback_http``) or when the hospital's allow-list
    (``allowed_hosts``) names that host: a loopback link in production points at
    whichever computer opens it, never at the hospital's viewer.
    """
    value = url.strip()
    if not value:
        raise ImagingLinkRejected("empty", "An imaging link needs a URL.")
    if len(value) > MAX_URL_LENGTH:
        raise ImagingLinkRejected(
            "too_long", f"An imaging URL is at most {MAX_URL_LENGTH} characters."
        )
    if any(ch.isspace() or ord(ch) < 0x20 for ch in value):
        raise ImagingLinkRejected(
            "malformed", "An imaging URL cannot contain spaces or control characters."
        )
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise ImagingLinkRejected(
            "malformed", "This is not a web address: copy it from your imaging viewer's "
            "address bar.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        shown = scheme or "none"
        raise ImagingLinkRejected(
            "scheme_not_allowed",
            f"Imaging links must use https (this one uses {shown}).",
        )
    if not host:
        raise ImagingLinkRejected("no_host", "An imaging URL needs a host name.")
    if parts.username is not None or parts.password is not None:
        raise ImagingLinkRejected(
            "credentials_in_url",
            "Imaging URLs must not contain a user name or password; the viewer signs people in.",
        )
    loopback_allowed = allow_loopback_http or (allowed_hosts is not None
                                               and host in allowed_hosts)
    if scheme == "http" and not (loopback_allowed and host in LOOPBACK_HOSTS):
        raise ImagingLinkRejected(
            "insecure_scheme",
            "Imaging links must use https: copy the https address from your imaging "
            "viewer.",
        )
    if allowed_hosts is not None and host not in {h.lower() for h in allowed_hosts}:
        raise ImagingLinkRejected(
            "host_not_allowed",
            f"{host} is not one of this hospital's imaging viewers "
            f"({', '.join(sorted(allowed_hosts)) or 'none configured'}).",
        )
    return value


def check_study_instance_uid(uid: str) -> str:
    """Return a valid DICOM StudyInstanceUID, or raise :class:`InvalidInput`."""
    value = uid.strip()
    if len(value) > 64 or not _UID.match(value):
        raise InvalidInput(
            "A StudyInstanceUID is dot-separated numbers, at most 64 characters "
            "(e.g. 1.2.840.113619.2.55.3).",
            field="study_instance_uid",
        )
    return value
