"""A loaded voice model (an RVC inference model), ready to synthesize.

``load_voice_model(path, device=..., index=...)`` reads, through the backend's one safe
loader (``backend.safeload.load_weights``):

- RVC inference models (``weights/<name>.pth``) from any RVC tool, ours included: a dict of
  ``weight`` (state dict without ``enc_q``, fp16 or fp32), ``config`` (18 values, the second
  stored as 32), ``info``, ``sr``, ``f0`` and ``version`` (absent in the oldest files: v1);
- our model packages (``.zip`` with the model, its index and ``model_card.json``), extracted
  once into a cache folder (``backend.convert.packages``).

The generator is rebuilt from the file's own ``config`` (sizes it does not hold come from the
weights, see ``backend.convert.fit``) and loaded strictly in float32. ``inspect_voice_model``
does the same checks without building the weights (the models library lists with it).
A file that is not a voice model raises ``NotAVoiceModel`` saying what it looks like
(``backend.convert.identify``); a file that asks for code raises ``UnsafeModelFile``
(code ``unsafe_file``) with safeload's message.

The index: the one given, else ``added_IVF…_Flat_nprobe_1_<name>_<v>.index`` beside the
file, in ``../logs/<name>/`` (RVC's layout) or ``../index/`` (a project's export), else the
one inside the package or named by the library's ``model.json`` beside the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from backend.convert import fit as fitting
from backend.convert import identify, packages
from backend.kernel import JobError
from backend.models.config import CONTENT_DIMS, GeneratorConfig, rate_key
from backend.models.synthesizer import Synthesizer
from backend.protocol import E_IO, E_NOT_FOUND, E_UNAVAILABLE
from backend.safeload import UnreadableFile, UnsafeFile, load_fairseq, load_weights
from backend.safeload.standins import FAIRSEQ_STANDINS

E_NOT_A_VOICE_MODEL = "not_a_voice_model"
E_UNSAFE_FILE = "unsafe_file"
LIBRARY_CARD = "model.json"  # written by backend.convert.library beside model.pth
PICK_MODEL = "choose the .pth of an RVC voice model (weights/<name>.pth)"


class NotAVoiceModel(JobError):
    """The file is readable but is not a voice model; the message says what it looks like."""

    code = E_NOT_A_VOICE_MODEL


class UnsafeModelFile(JobError):
    """safeload refused the file (it names code to run); the message is safeload's."""

    code = E_UNSAFE_FILE


class ModelNotFound(JobError):
    code = E_NOT_FOUND


@dataclass
class VoiceModel:
    name: str
    path: Path | None
    version: str  # "v1" | "v2"
    sample_rate: int  # 32000 | 40000 | 48000
    f0: bool
    speakers: int
    net: Synthesizer  # eval mode, float32, on the device it was loaded to
    info: str = ""
    stored_dtype: str = "fp16"  # "fp16" | "fp32": how the file stored its weights
    index_path: Path | None = None
    source: str = "file"  # "export" | "imported" | "file"

    @property
    def hop(self) -> int:
        return self.net.hop_length

    @property
    def content_dim(self) -> int:
        return 256 if self.version == "v1" else 768


@dataclass(frozen=True)
class ModelInfo:
    """What a voice model file holds, checked, without its weights built."""

    name: str
    path: Path  # the file the user gave (.pth or .zip)
    weights_path: Path  # the .pth read (inside the package cache for a .zip)
    version: str
    sample_rate: int
    f0: bool
    speakers: int
    info: str
    stored_dtype: str
    index_path: Path | None
    cfg: GeneratorConfig
    card: dict[str, Any]  # the package's model_card.json (empty for a plain .pth)


def load_voice_model(path: Path | str, *, device: str = "cpu",
                     index: Path | str | None = None) -> VoiceModel:
    info, weights = _read(Path(path).expanduser(), index)
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise JobError(f"device {device} was asked for but CUDA is not available here; "
                       "use the CPU", code=E_UNAVAILABLE)
    net = Synthesizer(info.cfg)
    del net.enc_q  # training only: inference files never hold it
    net.load_state_dict({k: v.float() if v.is_floating_point() else v
                         for k, v in weights.items()}, strict=True)
    net = net.eval().to(device)
    return VoiceModel(info.name, info.path, info.version, info.sample_rate, info.f0,
                      info.speakers, net, info.info, info.stored_dtype, info.index_path)


def inspect_voice_model(path: Path | str, *, index: Path | str | None = None) -> ModelInfo:
    """Every check ``load_voice_model`` makes, without building the weights."""
    return _read(Path(path).expanduser(), index)[0]


def _read(src: Path, index: Path | str | None) -> tuple[ModelInfo, dict[str, Any]]:
    if not src.exists():
        raise ModelNotFound(f"{src} does not exist: {PICK_MODEL}")
    if src.is_dir():
        raise NotAVoiceModel(f"{src} is a folder: {PICK_MODEL} inside it")
    weights_path, card, package_index = src, {}, None
    if packages.is_package(src):
        try:
            got = packages.extract_cached(src)
        except packages.PackageError as exc:
            raise NotAVoiceModel(str(exc)) from None
        weights_path, card, package_index = got.model, got.card, got.index
    ckpt = read_checkpoint(weights_path, shown=src)
    name = str(card.get("name") or _library_card(src).get("name") or src.stem)
    info, weights = _check(src, ckpt, name)
    found = find_index(src, info["version"], index, package_index)
    return ModelInfo(name=name, path=src, weights_path=weights_path, index_path=found,
                     card=card, **info), weights


def read_checkpoint(path: Path, *, shown: Path | None = None) -> Any:
    """The object in ``path`` through the safe loader; errors say what the file is."""
    shown = shown or path
    try:
        return load_weights(path)
    except FileNotFoundError:
        raise ModelNotFound(f"{shown} does not exist: {PICK_MODEL}") from None
    except UnsafeFile as exc:
        if exc.what not in FAIRSEQ_STANDINS:
            raise UnsafeModelFile(str(exc).replace(str(path), str(shown))) from None
        try:  # fairseq metadata classes: its stand-ins are inert, read it to say what it is
            obj = load_fairseq(path)
        except (UnsafeFile, UnreadableFile) as again:
            raise UnsafeModelFile(str(again).replace(str(path), str(shown))) from None
        raise NotAVoiceModel(identify.describe_fairseq(shown, obj)) from None
    except UnreadableFile as exc:
        raise NotAVoiceModel(identify.describe_unreadable(shown, exc.reason)) from None
    except OSError as exc:
        raise JobError(f"cannot read {shown}: {exc.strerror or exc}",
                       code=E_IO) from None


def _check(src: Path, ckpt: Any, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if not (isinstance(ckpt, dict) and isinstance(ckpt.get("weight"), dict)
            and isinstance(ckpt.get("config"), list | tuple)):
        raise NotAVoiceModel(identify.describe(src, ckpt))
    weights = ckpt["weight"]
    version = str(ckpt.get("version", "v1"))  # absent in the oldest files: v1
    if version not in CONTENT_DIMS:
        raise NotAVoiceModel(f"{src.name} is an RVC voice model of version {version!r}; "
                             "Timbre Studio loads v1 and v2 models")
    f0 = _flag(src, ckpt.get("f0", 1))
    cfg = _config(src, ckpt["config"], version, f0)
    bad = [str(k) for k, v in weights.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise NotAVoiceModel(f"{src.name} looks like an RVC voice model, but {len(bad)} of "
                             f"its weights are not tensors ({fitting._names(bad)}): the file "
                             "is damaged; export or download it again")
    fit = fitting.best_fit(cfg, weights)
    if not fit.ok:
        raise NotAVoiceModel(fitting.mismatch_message(src.name, fit, weights),
                             details=fit.details())
    info = {"version": version, "sample_rate": fit.cfg.sampling_rate, "f0": f0,
            "speakers": fit.cfg.spk_embed_dim, "info": str(ckpt.get("info") or ""),
            "stored_dtype": _dtype(weights), "cfg": fit.cfg}
    return info, weights


def _flag(src: Path, value: Any) -> bool:
    if value in (0, 1, True, False, "0", "1"):
        return bool(int(value))
    raise NotAVoiceModel(f"{src.name} looks like an RVC voice model, but its 'f0' entry is "
                         f"{value!r} (expected 1 for a model with pitch or 0 without)")


def _config(src: Path, args: Any, version: str, f0: bool) -> GeneratorConfig:
    try:
        rate_key(args[-1])
    except (ValueError, IndexError):
        raise NotAVoiceModel(f"{src.name} is an RVC voice model at {args[-1] if args else '?'} "
                             "Hz; Timbre Studio loads 32k, 40k and 48k models") from None
    try:
        return GeneratorConfig.from_args(list(args), version, f0)
    except (TypeError, ValueError) as exc:
        raise NotAVoiceModel(f"{src.name} looks like an RVC voice model, but its 'config' "
                             f"entry is not the 18 model hyperparameters ({exc}); export or "
                             "download it again") from None


def _dtype(weights: dict[str, Any]) -> str:
    kinds = {v.dtype for v in weights.values() if v.is_floating_point()}
    names = {torch.float16: "fp16", torch.float32: "fp32", torch.bfloat16: "bf16"}
    if len(kinds) == 1:
        return names.get(next(iter(kinds)), str(next(iter(kinds))).replace("torch.", ""))
    return "mixed" if kinds else "fp32"


def _library_card(src: Path) -> dict[str, Any]:
    """The library's ``model.json`` beside ``model.pth`` (empty anywhere else)."""
    card = src.with_name(LIBRARY_CARD)
    if src.name != "model.pth" or not card.is_file():
        return {}
    try:
        loaded = json.loads(card.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def index_matches(file_name: str, name: str, version: str) -> bool:
    """``added_IVF<n>_Flat_nprobe_1_<name>_<version>.index`` (RVC's name for the index)."""
    head, tail = "added_IVF", f"_{name}_{version}.index"
    if not (file_name.startswith(head) and file_name.endswith(tail)):
        return False
    middle = file_name[len(head):-len(tail)]
    n, _, rest = middle.partition("_")
    return n.isdigit() and rest == "Flat_nprobe_1"


def _newest(folder: Path, name: str, version: str) -> Path | None:
    try:
        found = [p for p in folder.iterdir() if index_matches(p.name, name, version)
                 and p.is_file()]
    except OSError:
        return None
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def find_index(src: Path, version: str, given: Path | str | None = None,
               package_index: Path | None = None) -> Path | None:
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise ModelNotFound(f"the index {path} does not exist: choose the model's "
                                "added_IVF….index file, or none")
        return path
    name = src.stem
    for folder in (src.parent, src.parent.parent / "logs" / name, src.parent.parent / "index"):
        found = _newest(folder, name, version)
        if found is not None:
            return found
    if package_index is not None:
        return package_index
    listed = _library_card(src).get("index")
    if isinstance(listed, str) and (src.parent / listed).is_file():
        return src.parent / listed
    return None
