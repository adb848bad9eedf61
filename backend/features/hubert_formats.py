"""HuBERT checkpoint files: format detection and reading.

:func:`read_checkpoint` turns a fairseq ``.pt`` (RVC's ``hubert_base.pt``), a Hugging Face
folder, ``.safetensors`` (sharded or not) or ``pytorch_model.bin`` into a :class:`Checkpoint`:
the tensors under the file's own names plus plain metadata. Pickled files are read by
:func:`backend.safeload.load_fairseq`, which knows fairseq's metadata classes (omegaconf
containers, argparse Namespace, fairseq Dictionary) as inert stand-ins and refuses any other
class; no file is ever fully unpickled, whatever its origin or checksum.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from backend.safeload import UnreadableFile, UnsafeFile, load_fairseq

FAIRSEQ_MARKERS = ("feature_extractor.conv_layers.0.0.weight", "post_extract_proj.weight")
HF_MARKERS = ("feature_extractor.conv_layers.0.conv.weight", "feature_projection.projection.weight")


class EncoderLoadError(ValueError):
    """A HuBERT file could not be read or does not fit; the message names the file."""


@dataclass
class Checkpoint:
    path: Path
    kind: str  # "fairseq" or "hf"
    state: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)


def _torch_load(path: Path) -> Any:
    """A fairseq checkpoint or a state dict, through the backend's one safe loader."""
    try:
        return load_fairseq(path)
    except UnsafeFile as exc:
        raise EncoderLoadError(str(exc)) from None
    except UnreadableFile as exc:
        raise EncoderLoadError(f"{path}: not a readable torch checkpoint ({exc.reason})") from None
    except OSError as exc:
        raise EncoderLoadError(f"{path}: not a readable torch checkpoint ({exc})") from None


def read_checkpoint(path: Path) -> Checkpoint:
    if not path.exists():
        raise EncoderLoadError(f"{path}: no such file or folder (expected a HuBERT model: "
                               "hubert_base.pt or a Hugging Face folder with config.json)")
    if path.is_dir():
        return _read_hf(path, _hf_weights_in(path))
    if path.suffix == ".safetensors" or path.name.endswith(".safetensors.index.json"):
        return _read_hf(path.parent, path)
    obj = _torch_load(path)
    return _classify(path, obj)


def _hf_weights_in(folder: Path) -> Path:
    for name in ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    raise EncoderLoadError(f"{folder}: no model.safetensors or pytorch_model.bin in this folder "
                           "(expected a Hugging Face HubertModel folder)")


def _read_hf(folder: Path, weights: Path, state: dict[str, torch.Tensor] | None = None
             ) -> Checkpoint:
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise EncoderLoadError(f"{weights}: Hugging Face weights need a config.json next to them "
                               f"(looked for {cfg_path})")
    try:
        meta = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EncoderLoadError(f"{cfg_path}: cannot read JSON ({exc})") from exc
    pre = folder / "preprocessor_config.json"
    if pre.is_file():
        try:
            meta["_preprocessor"] = json.loads(pre.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EncoderLoadError(f"{pre}: cannot read JSON ({exc})") from exc
    if state is None:
        state = _load_hf_tensors(weights)
    state = {k.removeprefix("hubert."): v for k, v in state.items()}
    if not any(m in state for m in HF_MARKERS):
        raise EncoderLoadError(f"{weights}: no Hugging Face HuBERT weights found (expected keys "
                               f"such as {HF_MARKERS[0]}); found {_sample(state)}")
    return Checkpoint(weights, "hf", state, meta)


def _load_hf_tensors(weights: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        if weights.name.endswith(".index.json"):
            index = json.loads(weights.read_text(encoding="utf-8"))
            state: dict[str, torch.Tensor] = {}
            for shard in sorted(set(index["weight_map"].values())):
                state.update(load_file(str(weights.parent / shard)))
            return state
        if weights.suffix == ".safetensors":
            return load_file(str(weights))
    except Exception as exc:
        raise EncoderLoadError(f"{weights}: cannot read safetensors weights ({exc})") from exc
    obj = _torch_load(weights)
    if not isinstance(obj, dict):
        raise EncoderLoadError(f"{weights}: expected a state dict, found {type(obj).__name__}")
    return obj


def _sample(d: dict[str, Any], n: int = 6) -> str:
    keys = list(d)
    return ", ".join(map(str, keys[:n])) + (" ..." if len(keys) > n else "") if keys else "nothing"


def _classify(path: Path, obj: Any) -> Checkpoint:
    if not isinstance(obj, dict):
        raise EncoderLoadError(f"{path}: expected a dict (fairseq checkpoint or state dict), "
                               f"found {type(obj).__name__}")
    if "weight" in obj and "config" in obj:
        raise EncoderLoadError(f"{path}: this is an RVC voice model (it has 'weight' and "
                               "'config' entries), not a HuBERT content encoder; expected "
                               "hubert_base.pt (a fairseq checkpoint with 'model' and 'cfg')")
    sd = obj.get("model", obj)
    if isinstance(sd, dict) and any(m in sd for m in FAIRSEQ_MARKERS):
        meta = {k: obj[k] for k in ("cfg", "args") if obj.get(k) is not None}
        return Checkpoint(path, "fairseq", _tensors(path, sd), meta)
    if isinstance(sd, dict) and any(k.removeprefix("hubert.") in HF_MARKERS for k in sd):
        return _read_hf(path.parent, path, state=_tensors(path, sd))
    where = "its 'model' entry" if sd is not obj else "it"
    found = _sample(sd) if isinstance(sd, dict) else type(sd).__name__
    raise EncoderLoadError(
        f"{path}: not a HuBERT/ContentVec checkpoint: expected fairseq keys such as "
        f"{FAIRSEQ_MARKERS[0]} (or Hugging Face keys such as {HF_MARKERS[0]}), but {where} "
        f"has: {found}")


def _tensors(path: Path, sd: dict[str, Any]) -> dict[str, torch.Tensor]:
    bad = [k for k, v in sd.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise EncoderLoadError(f"{path}: state dict entries that are not tensors: {bad[:8]}")
    return dict(sd)
