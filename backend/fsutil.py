"""Safe file writing shared by every part of the backend.

Everything the user makes is written atomically: the bytes go to a temporary
file in the same folder (so ``os.replace`` never crosses file systems), are
flushed to disk, then renamed over the target. A crash or a full disk in the
middle leaves the old file as it was and no partial file under the real name.

Files get the user's normal permissions: ``create_temp_file`` opens with mode
0o666 and lets the system apply the umask (and default ACLs), where
``tempfile.mkstemp`` would make every project file private (0600).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

HASH_CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike[str], *, check: Callable[[], None] | None = None,
                progress: Callable[[int, int], None] | None = None) -> str:
    """Streamed SHA-256 of a file; ``check`` runs between chunks (to cancel) and
    ``progress(done, total)`` after each one."""
    total = os.path.getsize(path)
    digest = hashlib.sha256()
    done = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if check is not None:
                check()
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()

TEMP_PREFIX = ".tmp-"
TEMP_SUFFIX = ".part"


def is_temp_name(name: str) -> bool:
    """True for the names ``atomic_write_bytes`` gives its temporary files."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


_TEMP_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
               | getattr(os, "O_NOFOLLOW", 0))


def create_temp_file(folder: str | os.PathLike[str], prefix: str, suffix: str) -> tuple[int, str]:
    """A new file with a random name in ``folder``, opened for writing: ``(fd, path)``.

    Like ``tempfile.mkstemp``, but the file gets the permissions of any file the
    user makes (0o666 less the umask) rather than 0600.
    """
    for _ in range(100):
        name = os.path.join(folder, f"{prefix}{secrets.token_hex(4)}{suffix}")
        try:
            return os.open(name, _TEMP_FLAGS, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, fsync: bool = True) -> Iterator[BinaryIO]:
    """A binary file that becomes ``path`` only when the block ends without an error (a temp
    file in the same folder, flushed and fsynced, then ``os.replace``); on an error the
    temp file is removed and ``path`` is untouched."""
    target = Path(path)
    fd, tmp_name = create_temp_file(target.parent, f"{TEMP_PREFIX}{target.name}.", TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + ``os.replace``)."""
    with atomic_writer(path, fsync=fsync) as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write ``obj`` as indented UTF-8 JSON, atomically.

    A string holding a lone surrogate (a file name that is not valid UTF-8 reads
    as one) cannot be UTF-8: the file is then written with ``\\u`` escapes,
    which read back as the same string.
    """
    text = json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False, allow_nan=False)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        data = json.dumps(obj, ensure_ascii=True, indent=2, allow_nan=False).encode("ascii")
    return atomic_write_bytes(path, data + b"\n")


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file (OSError if unreadable, ValueError if it is not valid JSON)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def describe_os_error(exc: OSError, action: str, path: str | os.PathLike[str] | None = None,
                      *, retry: str = "try again") -> str:
    """A sentence for a person: what failed, on which file, and what to do."""
    where = path if path is not None else (exc.filename or "a file")
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return f"disk full while {action} {where}: free space and {retry}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied while {action} {where}: check the file's permissions"
    if exc.errno == errno.EROFS:
        return f"read-only file system while {action} {where}: choose a writable folder"
    reason = exc.strerror or str(exc)
    return f"{action} {where} failed: {reason}"
