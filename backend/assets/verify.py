"""Verify an asset file: by sha256, or by structure (expected keys and shapes).

CTranslate2 ``model.bin`` files (faster-whisper) are read by their header (``ct2_header``):
spec name, variable names and shapes. PyTorch files are read by the backend's one safe loader
(``backend.safeload.load_fairseq``, memory-mapped: tensor data stays on disk), the same
restrictions as for any user file; a file it refuses is reported as such
(``FileStructure.refused``). Safetensors headers and JSON files are read directly.
``identify`` names what a wrong file looks like.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.assets.catalogue import Asset
from backend.assets.ct2_header import NotCTranslate2, looks_like_ct2, read_ct2_header

CHUNK = 1 << 20
_CONTAINERS = ("model", "weight", "state_dict", "module", "net")


@dataclass(frozen=True)
class TensorInfo:
    """What a tensor looks like."""

    shape: tuple[int, ...]
    dtype: str


@dataclass
class FileStructure:
    """What a file contains: its format and, for weights, each candidate state dict."""

    format: str  # "torch", "safetensors", "ctranslate2", "json", "text" or "unknown"
    how: str = ""  # "safe_loader", "header", "parsed"
    top_keys: list[str] = field(default_factory=list)
    state_dicts: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)
    json: Any = None
    error: str = ""
    refused: str = ""  # the safe loader's refusal (the file names a class no model needs)


_MAGIC = ((b"RIFF", "an audio file (WAV)"), (b"fLaC", "an audio file (FLAC)"),
          (b"OggS", "an audio file (Ogg)"), (b"ID3", "an audio file (MP3)"),
          (b"PK\x03\x04", "a zip archive that is not a PyTorch checkpoint"))


def read_structure(path: Path) -> FileStructure:
    """Read a file's structure without trusting it. Never raises for a bad file."""
    with open(path, "rb") as fh:
        head = fh.read(72)
    if looks_like_ct2(head):
        return _read_ct2(path)
    audio = next((what for magic, what in _MAGIC[:4] if head.startswith(magic)), None)
    if audio:
        return FileStructure("unknown", error=audio)
    if head[:1] in (b"{", b"[") or path.suffix.lower() == ".json":
        return _read_json(path)
    if path.suffix.lower() == ".txt":
        return _read_text(path)
    if len(head) >= 9 and head[8:9] == b"{":
        sf = _read_safetensors(path)
        if sf is not None:
            return sf
    return _read_torch(path, head)


def _read_ct2(path: Path) -> FileStructure:
    try:
        header = read_ct2_header(path)
    except (OSError, NotCTranslate2) as exc:
        return FileStructure("unknown", error=f"a damaged CTranslate2 model ({exc})")
    return FileStructure("ctranslate2", "header", top_keys=[header.spec],
                         state_dicts={"": header.variables},
                         json={"spec": header.spec, "binary_version": header.binary_version,
                               "revision": header.revision})


def _read_text(path: Path) -> FileStructure:
    """A vocabulary file: one token per line (an empty token is an empty line)."""
    try:
        data = path.read_bytes()
        data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FileStructure("unknown", error=f"not a UTF-8 text file ({exc})")
    lines = len(data.removesuffix(b"\n").split(b"\n")) if data else 0
    return FileStructure("text", "parsed", json={"lines": lines})


def _read_json(path: Path) -> FileStructure:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return FileStructure("unknown", error=f"not valid JSON ({exc})")
    keys = list(doc) if isinstance(doc, dict) else []
    return FileStructure("json", "parsed", top_keys=keys, json=doc)


def _read_safetensors(path: Path) -> FileStructure | None:
    with open(path, "rb") as fh:
        (length,) = struct.unpack("<Q", fh.read(8))
        if length > 100 * 1024 * 1024:
            return None
        try:
            header = json.loads(fh.read(length))
        except ValueError:
            return None
    if not isinstance(header, dict):
        return None
    sd = {k: tuple(v.get("shape", ())) for k, v in header.items()
          if k != "__metadata__" and isinstance(v, dict)}
    return FileStructure("safetensors", "header", top_keys=list(sd)[:20], state_dicts={"": sd})


def _read_torch(path: Path, head: bytes) -> FileStructure:
    from backend.safeload import UnsafeFile, load_fairseq

    try:
        obj = load_fairseq(path, mmap=True)
    except UnsafeFile as exc:
        return FileStructure("unknown", error=str(exc), refused=str(exc))
    except Exception:  # damaged or no PyTorch file: say what it looks like instead
        what = next((w for magic, w in _MAGIC if head.startswith(magic)), None)
        return FileStructure("unknown", error=what or "a file that is not a model checkpoint")
    import torch

    return _structure_from_tree(_to_tree(obj, torch.Tensor), "safe_loader")


def _to_tree(obj: Any, tensor_type: type, depth: int = 0) -> Any:
    if isinstance(obj, tensor_type):
        return TensorInfo(tuple(obj.shape), str(obj.dtype).replace("torch.", ""))
    if depth > 6:
        return None
    if isinstance(obj, dict):
        return {k: _to_tree(v, tensor_type, depth + 1) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_tree(v, tensor_type, depth + 1) for v in obj[:64]]
    return obj if isinstance(obj, (str, int, float, bool, type(None))) else repr(obj)[:80]


def _tensor_dict(obj: Any) -> dict[str, tuple[int, ...]] | None:
    if not isinstance(obj, dict):
        return None
    sd = {str(k): v.shape for k, v in obj.items() if isinstance(v, TensorInfo)}
    return sd or None


def _structure_from_tree(tree: Any, how: str) -> FileStructure:
    fs = FileStructure("torch", how)
    if isinstance(tree, dict):
        fs.top_keys = [str(k) for k in tree][:20]
        top = _tensor_dict(tree)
        if top:
            fs.state_dicts[""] = top
        for name in _CONTAINERS:
            sd = _tensor_dict(tree.get(name))
            if sd:
                fs.state_dicts[name] = sd
    return fs


# expectations ---------------------------------------------------------------------
def _lookup(sd: dict[str, tuple[int, ...]], key: str) -> tuple[int, ...] | None:
    """A key's shape, tolerating one wrapper prefix such as 'module.' or 'hubert.'."""
    if key in sd:
        return sd[key]
    depth = key.count(".") + 1
    hits = [v for k, v in sd.items() if k.endswith("." + key) and k.count(".") <= depth]
    return hits[0] if len(hits) == 1 else None


def _candidate_dicts(fs: FileStructure, container: str | None) -> Iterator[tuple[str, dict]]:
    """The state dicts to check: the declared container only, or (none declared) all."""
    if container is not None:
        if container in fs.state_dicts:
            yield container, fs.state_dicts[container]
        return
    yield from sorted(fs.state_dicts.items(), key=lambda item: item[0] != "")


def check_expected(fs: FileStructure, expected: dict[str, Any]) -> list[str]:
    """Problems that stop the file matching ``expected``; empty means it matches."""
    if not expected:
        return ["the catalogue has no structure to check this asset against"]
    want = expected.get("format", "torch")
    if want == "json":
        return _check_json(fs, expected)
    if want == "text":
        if fs.format != "text":
            return [fs.error or f"expected a text file, found {fs.format} content"]
        lines = fs.json["lines"]
        return [] if lines == expected.get("lines", lines) else [
            f"the file has {lines} lines, expected {expected['lines']}"]
    if want == "ctranslate2":
        return _check_ct2(fs, expected)
    if fs.format not in ("torch", "safetensors"):
        return [f"expected a {want} weights file, found {fs.error or fs.format + ' content'}"]
    if not fs.state_dicts:
        return ["the file holds no tensors"]
    best: list[str] | None = None
    container = expected.get("container")
    for _name, sd in _candidate_dicts(fs, container):
        problems = _check_keys(sd, expected.get("keys", {}), expected.get("absent", []))
        if not problems:
            return []
        if best is None or len(problems) < len(best):
            best = problems
    return best or [f"no state dict under '{container}'" if container else "no state dict"]


def _check_keys(sd: dict, keys: dict[str, list[int]], absent: list[str]) -> list[str]:
    problems = []
    for key, shape in keys.items():
        found = _lookup(sd, key)
        if found is None:
            problems.append(f"missing key {key}")
        elif list(found) != list(shape):
            problems.append(f"{key} has shape {list(found)}, expected {list(shape)}")
    problems += [f"unexpected key {key}" for key in absent if _lookup(sd, key) is not None]
    return problems


def _check_ct2(fs: FileStructure, expected: dict[str, Any]) -> list[str]:
    if fs.format != "ctranslate2":
        return [f"expected a CTranslate2 model, found {fs.error or fs.format + ' content'}"]
    spec = fs.json.get("spec")
    if expected.get("spec") and spec != expected["spec"]:
        return [f"the model is a {spec}, expected a {expected['spec']}"]
    return _check_keys(fs.state_dicts[""], expected.get("keys", {}), expected.get("absent", []))


def _check_json(fs: FileStructure, expected: dict[str, Any]) -> list[str]:
    """``fields`` (values), ``required`` (keys present) of an object; ``length`` of a list."""
    if "length" in expected:
        if fs.format != "json" or not isinstance(fs.json, list):
            return [fs.error or "expected a JSON list"]
        n = len(fs.json)
        return [] if n == expected["length"] else [
            f"the list has {n} entries, expected {expected['length']}"]
    if fs.format != "json" or not isinstance(fs.json, dict):
        return [fs.error or "expected a JSON object"]
    problems = [f"missing key {k}" for k in expected.get("required", ()) if k not in fs.json]
    return problems + [f"{k} is {fs.json.get(k)!r}, expected {v!r}"
                       for k, v in expected.get("fields", {}).items() if fs.json.get(k) != v]


# identification -------------------------------------------------------------------
def identify(fs: FileStructure, catalogue: dict[str, Asset]) -> list[Asset]:
    """Catalogue assets whose structure this file matches."""
    return [a for a in catalogue.values()
            if a.expected and not check_expected(fs, a.expected)]


def describe(fs: FileStructure, catalogue: dict[str, Asset]) -> str:
    """A short phrase saying what the file looks like, for error messages."""
    matches = identify(fs, catalogue)
    if len(matches) == 1:
        a = matches[0]
        return f"{a.family or a.title} ({a.basename}, asset {a.name})"
    if matches:
        families = sorted({a.family or a.kind for a in matches})
        files = ", ".join(sorted({a.basename for a in matches}))
        return f"{' or '.join(families)} (one of {files})"
    return _describe_generic(fs)


def _describe_generic(fs: FileStructure) -> str:
    keys = set(fs.top_keys)
    if fs.format == "unknown":
        return fs.error or "a file that is not a model checkpoint"
    if fs.format == "json":
        return "a JSON file"
    if fs.format == "ctranslate2":
        return (f"a CTranslate2 {fs.json.get('spec')} model with "
                f"{len(fs.state_dicts[''])} variables")
    if {"weight", "config"} <= keys:
        return "an RVC voice model (inference .pth with 'weight' and 'config')"
    if {"model", "iteration", "optimizer"} <= keys:
        return "a training checkpoint (G_/D_ file with 'model', 'iteration', 'optimizer')"
    n = sum(len(sd) for sd in fs.state_dicts.values())
    if n:
        sample = ", ".join(list(next(iter(fs.state_dicts.values())))[:2])
        return f"a {fs.format} weights file with {n} tensors (e.g. {sample})"
    return f"a {fs.format} file without tensors (top-level keys: {', '.join(fs.top_keys[:5])})"
