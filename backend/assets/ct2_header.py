"""Read the header of a CTranslate2 ``model.bin`` without loading it: the structural check of
faster-whisper models (and any other CTranslate2 model) when no checksum settles it.

Layout (little-endian; CTranslate2's ``ModelSpec._serialize``, binary versions 2 to 6): uint32
binary version; string spec name (for example ``WhisperSpec``); uint32 spec revision; uint32
variable count; per variable: string name, uint8 rank, rank x uint32 dims, then uint8 type id
and uint32 byte count (versions 4+; before, uint8 item size and uint32 element count), then the
data, which is skipped with a seek; uint32 alias count; per alias two strings (alias, target).
A string is a uint16 length counting a final NUL, then the bytes. Every count is bounded by the
file size, so a damaged or hostile file gives a clear "not a CTranslate2 model" instead.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

MAX_BINARY_VERSION = 6  # what CTranslate2 4.x writes; newer files say so
_SPEC_NAME = re.compile(rb"^[A-Za-z][A-Za-z0-9_]{0,62}\x00$")
_MAX_VARIABLES = 200_000
_MAX_RANK = 8


class NotCTranslate2(ValueError):
    """The file is not a CTranslate2 model this reader understands (the message says why)."""


@dataclass
class CT2Header:
    binary_version: int
    spec: str
    revision: int
    variables: dict[str, tuple[int, ...]] = field(default_factory=dict)  # aliases included


def looks_like_ct2(head: bytes) -> bool:
    """Cheap test on the first bytes: a small version number, then a spec name string."""
    if len(head) < 8:
        return False
    version, length = struct.unpack_from("<IH", head)
    if not 2 <= version <= 64 or not 2 <= length <= 64 or len(head) < 6 + length:
        return False
    return bool(_SPEC_NAME.match(head[6:6 + length]))


def read_ct2_header(path: Path) -> CT2Header:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        version = _u(fh, "I")
        if version < 2:
            raise NotCTranslate2(f"CTranslate2 binary version {version} has no spec name")
        if version > MAX_BINARY_VERSION:
            raise NotCTranslate2(f"CTranslate2 binary version {version} is newer than this "
                                 f"app reads (up to {MAX_BINARY_VERSION})")
        spec = _string(fh)
        header = CT2Header(version, spec, _u(fh, "I"))
        count = _u(fh, "I")
        if count > _MAX_VARIABLES:
            raise NotCTranslate2(f"the header claims {count} variables")
        for _ in range(count):
            name, shape, nbytes = _variable(fh, version)
            if fh.tell() + nbytes > size:
                raise NotCTranslate2(f"variable {name} runs past the end of the file "
                                     "(truncated download?)")
            fh.seek(nbytes, 1)
            header.variables[name] = shape
        if fh.tell() < size:  # aliases share a stored variable's value (and shape)
            for _ in range(min(_u(fh, "I"), _MAX_VARIABLES)):
                alias, target = _string(fh), _string(fh)
                if target in header.variables:
                    header.variables[alias] = header.variables[target]
    return header


def _u(fh: BinaryIO, fmt: str) -> int:
    n = struct.calcsize(fmt)
    data = fh.read(n)
    if len(data) != n:
        raise NotCTranslate2("the file ends inside its header (truncated?)")
    return int(struct.unpack("<" + fmt, data)[0])


def _string(fh: BinaryIO) -> str:
    length = _u(fh, "H")
    raw = fh.read(length)
    if len(raw) != length or not raw.endswith(b"\x00"):
        raise NotCTranslate2("a name in the header is not a NUL-terminated string")
    try:
        return raw[:-1].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotCTranslate2("a name in the header is not UTF-8") from exc


def _variable(fh: BinaryIO, version: int) -> tuple[str, tuple[int, ...], int]:
    name = _string(fh)
    rank = _u(fh, "B")
    if rank > _MAX_RANK:
        raise NotCTranslate2(f"variable {name} has rank {rank}")
    shape = tuple(_u(fh, "I") for _ in range(rank))
    if version >= 4:
        _type_id, nbytes = _u(fh, "B"), _u(fh, "I")
    else:
        item_size, elements = _u(fh, "B"), _u(fh, "I")
        nbytes = item_size * elements
    return name, shape, nbytes
