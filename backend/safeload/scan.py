"""Name every class and function a torch file's pickles refer to, without running anything.

``pickletools.genops`` only decodes opcodes; nothing is imported or called. The loader uses
this to refuse a file that names anything outside what it allows (with the name in the
message) before torch's unpickler sees it. Handles torch's zip format (every ``data.pkl``
in the archive) and the legacy format (the magic number, protocol and system-info pickles
and the saved object, one after the other); a plain pickle is its first pickle.
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from pathlib import Path
from typing import IO

from torch._utils import IMPORT_MAPPING, NAME_MAPPING

from backend.safeload.errors import UnreadableFile

ZIP_MAGIC = b"PK\x03\x04"  # what torch itself looks at to tell the formats apart
_LEGACY_PICKLES = 5  # magic number, protocol, system info, the object, storage keys
_MAX_PICKLE_BYTES = 512 * 1024 * 1024
_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING",
               "BINSTRING", "SHORT_BINSTRING"}
_DISPLAY_MODULES = {"posix": "os", "nt": "os"}  # os.system pickles as posix.system


def is_zip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == ZIP_MAGIC


def display_name(full_name: str) -> str:
    module, _, name = full_name.rpartition(".")
    return f"{_DISPLAY_MODULES.get(module, module)}.{name}" if module else full_name


def referenced_globals(path: Path) -> list[str]:
    """``module.name`` of every global the file's pickles name, in order of appearance."""
    if not is_zip(path):
        with open(path, "rb") as fh:
            return _scan(fh, _LEGACY_PICKLES, path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if i.filename.endswith("data.pkl")]
            if not members:
                raise UnreadableFile(path, "a zip archive without data.pkl")
            found: list[str] = []
            for info in members:
                if info.file_size > _MAX_PICKLE_BYTES:
                    raise UnreadableFile(path, "its data.pkl is implausibly large")
                found += _scan(io.BytesIO(zf.read(info)), 1, path)
            return found
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise UnreadableFile(path, f"a damaged zip archive: {exc}") from None


def _scan(stream: IO[bytes], count: int, path: Path) -> list[str]:
    found: list[str] = []
    for index in range(count):
        try:
            found += _globals_of_one_pickle(stream)
        except (ValueError, EOFError, UnicodeDecodeError):
            if index == 0:
                raise UnreadableFile(path, "it is not a pickle at all") from None
            break  # a plain pickle ends after its first one; torch reports the rest
    return found


def _globals_of_one_pickle(stream: IO[bytes]) -> list[str]:
    found, strings = [], ["?", "?"]
    for opcode, arg, _pos in pickletools.genops(stream):
        if opcode.name in _STRING_OPS:
            strings = [strings[1], str(arg)]
        elif opcode.name in ("GLOBAL", "INST"):
            module, _, name = str(arg).partition(" ")
            found.append(_mapped(module, name))
        elif opcode.name == "STACK_GLOBAL":  # protocol 4+: names pushed as strings before
            found.append(_mapped(*strings))
    return found


def _mapped(module: str, name: str) -> str:
    """The name torch's unpickler will look up (it maps Python 2 names the same way)."""
    if (module, name) in NAME_MAPPING:
        module, name = NAME_MAPPING[(module, name)]
    elif module in IMPORT_MAPPING:
        module = IMPORT_MAPPING[module]
    return f"{module}.{name}"
