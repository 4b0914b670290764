"""What a forwarder reads from a VP8 RTP packet without decoding it (RFC 7741).

The payload descriptor is parsed by aiortc's ``VpxPayloadDescriptor``; this module
only answers the forwarder's questions about it.
"""

from __future__ import annotations

from typing import NamedTuple

from aiortc.codecs.vpx import VpxPayloadDescriptor

from signaling.rewriting import Numbering

__all__ = ["Descriptor", "PictureRewriter", "read", "starts_keyframe"]

_NON_REFERENCE = 0x20  # the N bit of the descriptor's first octet


class Descriptor(NamedTuple):
    """What the forwarder needs of one VP8 packet's payload descriptor (RFC 7741 4.2).

    A named tuple: one is made for every video packet forwarded."""

    parsed: VpxPayloadDescriptor
    size: int  # bytes of descriptor before the VP8 payload
    keyframe: bool  # the packet starts a key frame
    wide_picture_id: bool  # the picture id is 15 bits (M=1), not 7
    temporal_layer: int | None  # TID: 0 for the base layer, None without temporal layers


def read(payload: bytes) -> Descriptor | None:
    """The packet's descriptor, or None if the payload is not a VP8 one."""
    try:
        parsed, rest = VpxPayloadDescriptor.parse(payload)
    except ValueError:
        return None
    size = len(payload) - len(rest)
    wide = bool(parsed.picture_id is not None and payload[2] & 0x80)
    keyframe = bool(parsed.partition_start and parsed.partition_id == 0 and rest
                    and not rest[0] & 1)
    layer = parsed.tid[0] if parsed.tid is not None else None
    return Descriptor(parsed, size, keyframe, wide, layer)


class PictureRewriter:
    """One outgoing VP8 stream's picture ids and TL0PICIDX, continuous like its sequence
    numbers (``signaling.rewriting``): across sources and restarts, and closed up behind
    the pictures of temporal layers left out, as a receiver's decoder expects. The
    first source's numbers pass unchanged, so most packets need no new payload."""

    def __init__(self) -> None:
        self._pictures: Numbering | None = None
        self._wide = True
        self._base: Numbering | None = None

    def restart(self) -> None:
        for numbering in (self._pictures, self._base):
            if numbering is not None:
                numbering.restart()

    def rewrite(self, payload: bytes, descriptor: Descriptor) -> bytes | None:
        """The payload with this stream's picture id and TL0PICIDX (the same bytes if
        they are unchanged); None if the packet is older than the segment."""
        if descriptor.keyframe:
            # A key frame depends on nothing before it: a new segment, which also
            # absorbs a jump in the publisher's own numbers (an encoder restarted).
            self.restart()
        d = descriptor.parsed
        picture_id, base = d.picture_id, d.tl0picidx
        if picture_id is not None:
            numbering = self._picture_numbering(picture_id, descriptor.wide_picture_id)
            picture_id = numbering.map(picture_id)
            if picture_id is None:
                return None
        if base is not None:
            if self._base is None:
                self._base = Numbering(8, base)
            base = self._base.map(base)
        if picture_id == d.picture_id and base == d.tl0picidx:
            return payload
        rewritten = VpxPayloadDescriptor(d.partition_start, d.partition_id, picture_id,
                                         base, d.tid, d.keyidx)
        head = bytearray(bytes(rewritten))
        head[0] |= payload[0] & _NON_REFERENCE
        return bytes(head) + payload[descriptor.size:]

    def drop(self, descriptor: Descriptor) -> None:
        """The packet's picture is left out (an upper temporal layer)."""
        if descriptor.parsed.picture_id is not None and self._pictures is not None:
            self._pictures.drop(descriptor.parsed.picture_id)

    def _picture_numbering(self, picture_id: int, wide: bool) -> Numbering:
        if self._pictures is None or wide != self._wide:
            # The first source keeps its numbers; a change of width (another publisher)
            # starts a numbering of the new width.
            self._pictures, self._wide = Numbering(15 if wide else 7, picture_id), wide
        return self._pictures


def starts_keyframe(payload: bytes) -> bool:
    """True if the packet carries the first bytes of a VP8 key frame.

    RFC 7741 section 4.3: the first packet of a frame has S=1 and partition index
    0, and is followed by the VP8 payload header, whose first bit (P, the inverse
    key frame flag of RFC 6386 section 9.1) is 0 for a key frame.
    """
    descriptor = read(payload)
    return descriptor is not None and descriptor.keyframe
