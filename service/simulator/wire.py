"""Faults on the wire: answers that trickle, swell, explode, break off or go round.

What a hostile or broken network path can do to a correct answer, for testing
that the client's reads are bounded (`service.portal.transport`):

- "trickle" sends the answer `TRICKLE_BYTES` at a time, `seconds` apart (2 s
  if 0), until it is whole or the client hangs up;
- "huge" sends the answer followed by spaces up to `size` bytes (200 MB if 0):
  valid JSON, only too big;
- "gzip_bomb" sends the answer gzip-compressed, followed by spaces up to `size`
  decompressed bytes (1 GB if 0), a few hundred kilobytes on the wire;
- "reset" sends half the answer, then resets the connection (TCP RST);
- "redirect_loop" answers 307 to the very same URL, forever.

The pieces are made as they are sent, so the simulator never holds them whole.
"""

from __future__ import annotations

import socket
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BufferedIOBase

from service.simulator.replies import Reply

WIRE_FAULTS = ("trickle", "huge", "gzip_bomb", "reset", "redirect_loop")
TRICKLE_BYTES = 64
_PADDING = b" " * 1_048_576
_DEFAULT_PACE = 2.0
_DEFAULT_SIZES = {"huge": 200_000_000, "gzip_bomb": 1_000_000_000}


@dataclass(frozen=True)
class Streamed:
    """A reply written piece by piece: `length` is its Content-Length (None: chunked
    transfer), `pace` the pause before each piece after the first, and `reset` ends
    it with a TCP reset instead of its end."""

    status: int
    content_type: str
    pieces: Iterator[bytes]
    length: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    pace: float = 0.0
    reset: bool = False


def on_the_wire(kind: str, reply: Reply, path: str, seconds: float, size: int) -> Reply | Streamed:
    """`reply` as the wire fault `kind` delivers it (see module doc)."""
    if kind == "redirect_loop":
        return Reply(307, b"", reply.content_type, (("Location", path),))
    body = reply.body
    size = size or _DEFAULT_SIZES.get(kind, 0)
    if kind == "trickle":
        pieces = (body[at : at + TRICKLE_BYTES] for at in range(0, len(body), TRICKLE_BYTES))
        return Streamed(
            reply.status, reply.content_type, pieces, len(body), pace=seconds or _DEFAULT_PACE
        )
    if kind == "huge":
        total = max(size, len(body))
        return Streamed(reply.status, reply.content_type, _padded(body, total), total)
    if kind == "gzip_bomb":
        headers = (("Content-Encoding", "gzip"),)
        return Streamed(reply.status, reply.content_type, _gzipped(body, size), None, headers)
    if kind == "reset":
        return Streamed(
            reply.status, reply.content_type, iter([body[: len(body) // 2]]), len(body), reset=True
        )
    raise ValueError(f"not a wire fault: {kind!r}")


def _padded(body: bytes, total: int) -> Iterator[bytes]:
    yield body
    left = total - len(body)
    while left > 0:
        yield _PADDING[:left]
        left -= len(_PADDING)


def _gzipped(body: bytes, total: int) -> Iterator[bytes]:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for piece in _padded(body, max(total, len(body))):
        packed = packer.compress(piece)
        if packed:
            yield packed
    yield packer.flush()


def write_streamed(reply: Streamed, out: BufferedIOBase, connection: socket.socket) -> None:
    """Write the pieces of `reply` (its status and headers already sent) to `out`."""
    chunked = reply.length is None
    first = True
    for piece in reply.pieces:
        if not piece:
            continue  # an empty chunk would end a chunked body
        if not first and reply.pace:
            time.sleep(reply.pace)  # the fault's own pacing, not a test's wait
        first = False
        out.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        out.flush()
    if reply.reset:
        # SO_LINGER with a zero timeout makes close() send RST, not FIN.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    elif chunked:
        out.write(b"0\r\n\r\n")
        out.flush()
