"""The only unpickling in the backend: torch's weights-only loader, never a full unpickler.

Two profiles. ``load_weights`` allows what torch's weights-only unpickler allows by default
(tensors, numbers, strings, plain containers): pretrained bases, our checkpoints, RMVPE,
CREPE, exported and downloaded voice models. ``load_fairseq`` also allows the metadata
classes of fairseq checkpoints, each as an inert stand-in (:mod:`backend.safeload.standins`),
and returns the metadata as plain dicts.

Before torch reads a file, :func:`backend.safeload.scan.referenced_globals` lists every class
and function its pickles name; the first one outside the profile refuses the file with its
name. torch's unpickler then enforces the rest (what may be built, called or filled).
A hand-written unpickler is not needed: torch's accepts stand-ins under the real class
names (``safe_globals`` with ``(stand-in, "module.Name")`` pairs), which reads the real
fairseq layouts.
"""

from __future__ import annotations

import errno
import pickle
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch._weights_only_unpickler as _wo

from backend.safeload.errors import SafeLoadError, UnreadableFile, UnsafeFile
from backend.safeload.scan import display_name, is_zip, referenced_globals
from backend.safeload.standins import FAIRSEQ_STANDINS, to_plain

# safe_globals() changes a process-wide set: one load at a time, so that a weights-only
# load never runs while the fairseq stand-ins are registered.
_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Profile:
    standins: dict[str, Any]

    def allowed(self, name: str) -> bool:
        # torch's own default allow-list (the table its weights-only unpickler and its public
        # get_unsafe_globals_in_checkpoint use): tensor rebuilders, storages, dtypes...
        return name in self.standins or name in _wo._get_allowed_globals()


WEIGHTS = _Profile({})
FAIRSEQ = _Profile(FAIRSEQ_STANDINS)


def load_weights(path: Path | str, *, mmap: bool = False) -> Any:
    """Tensors, numbers, strings and plain containers only; anything else is refused."""
    return _load(Path(path), WEIGHTS, mmap)


def load_fairseq(path: Path | str, *, mmap: bool = False) -> Any:
    """As :func:`load_weights`, plus fairseq's metadata objects, returned as plain dicts."""
    path = Path(path)
    obj = _load(path, FAIRSEQ, mmap)
    try:
        return to_plain(obj)
    except (SafeLoadError, RecursionError) as exc:
        raise UnreadableFile(path, str(exc) or "nested too deep") from None


def _load(path: Path, profile: _Profile, mmap: bool) -> Any:
    if not path.is_file():
        raise FileNotFoundError(errno.ENOENT, "no such file", str(path))
    refused = next((g for g in referenced_globals(path) if not profile.allowed(g)), None)
    if refused is not None:
        raise UnsafeFile(path, display_name(refused))
    pairs = [(obj, name) for name, obj in profile.standins.items()]
    with _LOCK, torch.serialization.safe_globals(pairs), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # protocol notes, mmap notes: not the user's concern
        try:
            return torch.load(path, map_location="cpu", weights_only=True,
                              mmap=mmap and is_zip(path))
        except pickle.UnpicklingError as exc:  # torch's own refusal, the bare reason
            raise UnsafeFile(path, _first_line(exc.__context__ or exc), is_class=False) from None
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise UnreadableFile(path, f"{type(exc).__name__}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
