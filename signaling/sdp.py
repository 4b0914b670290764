"""Pure SDP helpers for the forwarding server: text in, text out, no I/O.

SDP syntax is RFC 8866; offer/answer rules are RFC 3264; all m-lines share one
transport (BUNDLE, RFC 8843), which is why payload types and RTP header
extension ids form ONE table per peer connection: RFC 8843 section 9.1 lets a
payload type appear in several bundled m-lines only with the same codec, and
RFC 8285 section 6 gives each extension id one meaning for the whole session.

aiortc's ``createOffer`` forgets what was negotiated (it re-offers its default
payload types and extension ids), which Chromium rejects ("RTP extension ID
reassignment not supported"). ``NegotiatedIds.pin`` rewrites such an offer back
to the ids the first negotiation settled on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "NegotiatedIds",
    "count_media",
    "media_ssrcs",
    "restrict_codecs",
    "stream_ids",
]

# RFC 3551 section 6: 96-127 are dynamic; Chrome also uses 35-63 once those run out.
_DYNAMIC_PAYLOAD_TYPES = [*range(96, 128), *range(35, 64)]
# RFC 8285 section 4.2: one-byte header ids are 1-14; 15 is reserved.
_EXTENSION_IDS = [*range(1, 15), *range(16, 256)]

_PT_ATTR = re.compile(r"^a=(rtpmap|fmtp|rtcp-fb):(\d+)( .*)?$")
_APT = re.compile(r"(?<![\w-])apt=(\d+)")
_EXTMAP = re.compile(r"^a=extmap:(\d+)(/\w+)? (\S+)(.*)$")


@dataclass
class _Section:
    """One m-section: its lines, the ``m=`` line first."""

    lines: list[str]

    @property
    def kind(self) -> str:
        return self.lines[0][2:].split(" ", 1)[0]

    @property
    def rtp(self) -> bool:
        fields = self.lines[0].split()
        return self.kind in ("audio", "video") and len(fields) > 3

    @property
    def rejected(self) -> bool:
        """Port 0 rejects an m-line (RFC 3264 section 6), unless it is ``a=bundle-only``:
        then it is offered within the BUNDLE group (RFC 8843 section 7.2), as Firefox
        offers every m-line but the first under ``bundlePolicy: "max-bundle"``."""
        return self.lines[0].split()[1] == "0" and "a=bundle-only" not in self.lines

    @property
    def payload_types(self) -> list[int]:
        return [int(pt) for pt in self.lines[0].split()[3:]]

    def attribute(self, name: str) -> str | None:
        prefix = f"a={name}:"
        return next((ln[len(prefix) :] for ln in self.lines if ln.startswith(prefix)), None)

    def codecs(self) -> dict[int, str]:
        """Payload type -> codec key ``kind/name/clock[/channels]``; RTX keyed by its apt."""
        names: dict[int, str] = {}
        apts: dict[int, int] = {}
        for line in self.lines:
            match = _PT_ATTR.match(line)
            if match and match[1] == "rtpmap" and match[3]:
                names[int(match[2])] = f"{self.kind}/{match[3].strip().lower()}"
            elif match and match[1] == "fmtp" and match[3] and (apt := _APT.search(match[3])):
                apts[int(match[2])] = int(apt[1])
        keys = {pt: name for pt, name in names.items() if pt not in apts}
        for pt, target in apts.items():
            if pt in names and target in keys:
                keys[pt] = f"{names[pt]}/apt={keys[target]}"
        return keys


def _split(sdp: str) -> tuple[list[str], list[_Section]]:
    lines = [ln for ln in sdp.replace("\r\n", "\n").split("\n") if ln.strip()]
    if not lines or lines[0] != "v=0":
        raise ValueError("not an SDP session description (no v=0 line)")
    session: list[str] = []
    sections: list[_Section] = []
    for line in lines:
        if line.startswith("m="):
            sections.append(_Section([line]))
        elif sections:
            sections[-1].lines.append(line)
        else:
            session.append(line)
    return session, sections


def _join(session: list[str], sections: list[_Section]) -> str:
    lines = session + [ln for s in sections for ln in s.lines]
    return "\r\n".join(lines) + "\r\n"


def _renumber(section: _Section, mapping: Mapping[int, int]) -> None:
    """Rewrite payload types in the m= line and a=rtpmap/fmtp/rtcp-fb (and apt=)."""
    fields = section.lines[0].split()
    pts = [str(mapping.get(int(pt), int(pt))) for pt in fields[3:]]
    out = [" ".join(fields[:3] + pts)]
    for line in section.lines[1:]:
        match = _PT_ATTR.match(line)
        if match:
            rest = match[3] or ""
            if match[1] == "fmtp":
                rest = _APT.sub(lambda m: f"apt={mapping.get(int(m[1]), int(m[1]))}", rest)
            line = f"a={match[1]}:{mapping.get(int(match[2]), int(match[2]))}{rest}"
        out.append(line)
    section.lines = out


def restrict_codecs(sdp: str, keep: Mapping[str, str]) -> str:
    """Drop every codec but ``keep[kind]`` (e.g. ``{"video": "VP8"}``) and its RTX.

    A forwarding server cannot transcode, so every sender in a room must use the
    same codec per kind. Rejected m-lines (port 0, not bundle-only) are left alone.

    Raises ``ValueError`` if an active m-line offers no codec of its kind.
    """
    session, sections = _split(sdp)
    for section in sections:
        wanted = keep.get(section.kind)
        if wanted is None or not section.rtp or section.rejected:
            continue
        codecs = section.codecs()
        base = f"{section.kind}/{wanted.lower()}/"
        primary = {key for key in codecs.values() if key.startswith(base)}
        kept = {
            pt
            for pt, key in codecs.items()
            if key in primary or key.rsplit("/apt=", 1)[-1] in primary
        }
        if not kept:
            mid = section.attribute("mid")
            raise ValueError(f"m-line {mid!r} offers no {wanted} ({section.kind})")
        fields = section.lines[0].split()
        fields = fields[:3] + [pt for pt in fields[3:] if int(pt) in kept]
        lines = [" ".join(fields)]
        for line in section.lines[1:]:
            match = _PT_ATTR.match(line)
            if match is None or int(match[2]) in kept:
                lines.append(line)
        section.lines = lines
    return _join(session, sections)


@dataclass
class NegotiatedIds:
    """The payload types and extension ids one peer connection has settled on.

    ``learn`` records what a description uses (first use wins); ``pin`` rewrites
    an offer so that every codec and extension keeps its recorded id and new
    ones get ids that are still free in the whole BUNDLE group.
    """

    payload_types: dict[str, int] = field(default_factory=dict)
    extensions: dict[str, int] = field(default_factory=dict)

    def learn(self, sdp: str) -> None:
        """Record the ids of codecs and extensions not seen before."""
        _, sections = _split(sdp)
        for section in sections:
            if not section.rtp:
                continue
            for pt, key in section.codecs().items():
                if key not in self.payload_types and pt not in self.payload_types.values():
                    self.payload_types[key] = pt
            for line in section.lines:
                if (match := _EXTMAP.match(line)) is not None:
                    ext_id, uri = int(match[1]), match[3]
                    if uri not in self.extensions and ext_id not in self.extensions.values():
                        self.extensions[uri] = ext_id

    def pin(self, sdp: str) -> str:
        """Rewrite ``sdp`` to use the recorded ids, recording any new ones."""
        session, sections = _split(sdp)
        for section in sections:
            if not section.rtp:
                continue
            mapping = {pt: self._payload_type(key, pt) for pt, key in section.codecs().items()}
            _renumber(section, mapping)
            section.lines = [self._extmap(line) for line in section.lines]
        return _join(session, sections)

    def _payload_type(self, key: str, proposed: int) -> int:
        if key not in self.payload_types:
            used = set(self.payload_types.values())
            if proposed in used or proposed not in _DYNAMIC_PAYLOAD_TYPES:
                proposed = next(pt for pt in _DYNAMIC_PAYLOAD_TYPES if pt not in used)
            self.payload_types[key] = proposed
        return self.payload_types[key]

    def _extmap(self, line: str) -> str:
        match = _EXTMAP.match(line)
        if match is None:
            return line
        ext_id, uri = int(match[1]), match[3]
        if uri not in self.extensions:
            used = set(self.extensions.values())
            if ext_id in used:
                ext_id = next(i for i in _EXTENSION_IDS if i not in used)
            self.extensions[uri] = ext_id
        return f"a=extmap:{self.extensions[uri]}{match[2] or ''} {uri}{match[4]}"


def stream_ids(sdp: str) -> dict[str, str]:
    """mid -> the ``a=msid`` stream id of each m-line that names one (RFC 8830)."""
    _, sections = _split(sdp)
    result: dict[str, str] = {}
    for section in sections:
        mid, msid = section.attribute("mid"), section.attribute("msid")
        if mid is not None and msid and msid.split()[0] != "-":
            result[mid] = msid.split()[0]
    return result


def media_ssrcs(sdp: str) -> dict[str, int]:
    """mid -> the media SSRC of each m-line (the first of an FID group, RFC 5576)."""
    _, sections = _split(sdp)
    result: dict[str, int] = {}
    for section in sections:
        mid = section.attribute("mid")
        group = section.attribute("ssrc-group")
        ssrc = section.attribute("ssrc")
        if mid is None:
            continue
        if group is not None and group.startswith("FID "):
            result[mid] = int(group.split()[1])
        elif ssrc is not None:
            result[mid] = int(ssrc.split()[0])
    return result


def count_media(sdp: str) -> int:
    """The number of m-lines: what grows if m-lines are never recycled."""
    return len(_split(sdp)[1])
