"""Load pretrained bases (RVC ``f0G40k.pth``...) or our checkpoints into a model.

Every key that does not fit is reported by name with both shapes; the speaker
table (``emb_g.weight``) is resized instead of skipped; nothing crashes on a
size mismatch and nothing silently starts from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from backend.safeload import SafeLoadError, UnreadableFile, UnsafeFile, load_weights


class PretrainedError(ValueError):
    """The file cannot be used for this model; the message says why and what to use."""


@dataclass
class LoadReport:
    path: Path
    loaded: int = 0
    adapted: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{self.path.name}: loaded {self.loaded} tensors"]
        out += [f"  adapted {a}" for a in self.adapted]
        out += [f"  skipped {k}: file has {list(a)}, model needs {list(b)}"
                for k, a, b in self.mismatched]
        if self.missing:
            out.append(f"  not in the file (kept at initial values): {_keys(self.missing)}")
        if self.unexpected:
            out.append(f"  in the file but not in the model (ignored): "
                       f"{_keys(self.unexpected)}")
        return out

    @property
    def clean(self) -> bool:
        return not (self.mismatched or self.missing or self.unexpected)


def _keys(keys: list[str], most: int = 8) -> str:
    """Key names; long lists are grouped by their first two name parts."""
    if len(keys) <= most:
        return ", ".join(keys)
    groups: dict[str, int] = {}
    for k in keys:
        prefix = ".".join(k.split(".")[:2])
        groups[prefix] = groups.get(prefix, 0) + 1
    return ", ".join(f"{p}.* ({n})" if n > 1 else p for p, n in groups.items())


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__


def read_state_dict(path: Path, part: str = "G") -> dict[str, torch.Tensor]:
    """The state dict inside a base, an RVC training or inference file, or our checkpoint
    (``part`` "G" or "D" picks the model out of a checkpoint that holds both).

    Files are read by the backend's one safe loader: a file holding other Python objects
    than tensors, numbers and plain containers is refused (unpickling it could run code)."""
    return state_dict_of(path, read_object(path), part)


def state_dict_of(path: Path, obj: Any, part: str = "G") -> dict[str, torch.Tensor]:
    """The state dict inside what ``read_object`` read (see ``read_state_dict``)."""
    return _tensors_only(path, _find_state_dict(path, obj, part))


def read_object(path: Path) -> Any:
    """What a pretrained file holds, read by the safe loader (``PretrainedError`` if not)."""
    try:
        return load_weights(path)
    except FileNotFoundError:
        raise PretrainedError(f"pretrained file {path} does not exist") from None
    except UnsafeFile as exc:
        raise PretrainedError(str(exc)) from None
    except (SafeLoadError, OSError) as exc:
        reason = exc.reason if isinstance(exc, UnreadableFile) else _first_line(exc)
        raise PretrainedError(f"{path.name} could not be read as a torch checkpoint "
                              f"(damaged or not a model file: {reason})") from None


def _find_state_dict(path: Path, obj: Any, part: str) -> dict[str, Any]:
    if isinstance(obj, dict):
        for key in ("model", "weight"):
            if isinstance(obj.get(key), dict):
                return obj[key]
        if isinstance(obj.get("task"), dict) and isinstance(obj["task"].get(part), dict):
            return obj["task"][part]  # our engine checkpoint
        if obj:
            return obj  # a bare state dict
    raise PretrainedError(f"{path.name} holds no model state dict (expected a 'model' or "
                          "'weight' entry, as in RVC pretrained bases and voice models)")


def _tensors_only(path: Path, state: dict[str, Any]) -> dict[str, torch.Tensor]:
    """A state dict whose values are all tensors, or a message naming the entries that are not."""
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if not bad:
        return state
    kinds = sorted({type(state[k]).__name__ for k in bad})
    shown = ", ".join(map(str, bad[:4])) + (f" and {len(bad) - 4} more" if len(bad) > 4 else "")
    raise PretrainedError(
        f"{path.name} is not a usable pretrained model: {len(bad)} of its {len(state)} weights "
        f"are {' and '.join(kinds)} values instead of tensors ({shown}). The file is damaged "
        "or was converted by another tool; download the pretrained base again (Models & assets "
        "page) or choose another file.")


def fit_state_dict(model: nn.Module, state: dict[str, torch.Tensor], path: Path) -> LoadReport:
    report = LoadReport(path)
    own = model.state_dict()
    usable: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key not in own:
            report.unexpected.append(key)
            continue
        want = own[key]
        if value.shape == want.shape:
            usable[key] = value.to(want.dtype)
        elif key == "emb_g.weight" and value.ndim == 2 and value.shape[1] == want.shape[1]:
            resized = want.clone()
            n = min(value.shape[0], want.shape[0])
            resized[:n] = value[:n].to(want.dtype)
            usable[key] = resized
            report.adapted.append(f"emb_g.weight: speaker table {list(value.shape)} -> "
                                  f"{list(want.shape)} (first {n} speakers kept)")
        else:
            report.mismatched.append((key, tuple(value.shape), tuple(want.shape)))
    report.missing = sorted(k for k in own if k not in state)
    model.load_state_dict(usable, strict=False)
    report.loaded = len(usable)
    return report


def check_compatible(report: LoadReport, *, version: str, sample_rate: int, f0: bool) -> None:
    """Refuse a base made for another version, rate or pitch mode."""
    bad = {k for k, _, _ in report.mismatched}
    rate = f"{sample_rate // 1000}k"
    hint = (f"use the {version} {'f0' if f0 else ''}G{rate}/D{rate} pretrained bases "
            f"(Models & assets page)")
    if "enc_p.emb_phone.weight" in bad:
        raise PretrainedError(f"{report.path.name} was trained for another content dimension "
                              f"(v1 is 256, v2 is 768) than this {version} project: {hint}")
    if any(k.startswith(("dec.ups.", "enc_q.pre.", "dec.noise_convs.")) for k in bad):
        raise PretrainedError(f"{report.path.name} is for another sample rate than this "
                              f"{rate} project: {hint}")
    if f0 and "enc_p.emb_pitch.weight" in report.missing:
        raise PretrainedError(f"{report.path.name} is a base without pitch, but this model "
                              f"uses pitch: {hint}")
    if not f0 and "enc_p.emb_pitch.weight" in report.unexpected:
        raise PretrainedError(f"{report.path.name} is a base with pitch, but this model has "
                              f"none: {hint}")
    if report.loaded == 0:
        raise PretrainedError(f"no tensor of {report.path.name} fits this model: {hint}")


def load_into(model: nn.Module, path: Path, *, check: dict[str, Any] | None = None,
              part: str = "G") -> LoadReport:
    report = fit_state_dict(model, read_state_dict(path, part), path)
    if check is not None:
        check_compatible(report, **check)
    return report
