"""What a forwarder reads from a VP8 RTP packet without decoding it (RFC 7741).

The payload descriptor is parsed by aiortc's ``VpxPayloadDescriptor``; this module
only answers the forwarder's questions about it.
"""

from __future__ import annotations

from aiortc.codecs.vpx import VpxPayloadDescriptor

__all__ = ["starts_keyframe"]


def starts_keyframe(payload: bytes) -> bool:
    """True if the packet carries the first bytes of a VP8 key frame.

    RFC 7741 section 4.3: the first packet of a frame has S=1 and partition index
    0, and is followed by the VP8 payload header, whose first bit (P, the inverse
    key frame flag of RFC 6386 section 9.1) is 0 for a key frame.
    """
    try:
        descriptor, rest = VpxPayloadDescriptor.parse(payload)
    except ValueError:
        return False
    return bool(descriptor.partition_start and descriptor.partition_id == 0
                and rest and not rest[0] & 1)
