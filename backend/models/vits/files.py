"""VITS text-to-speech model files: ours (inference file, package) and the original VITS ones.

Read (``load_tts_model``, ``inspect_tts``), every file through the backend's one safe loader:

- our inference file (``source "export"``): a torch pickle of ``{"format": "timbre-vits",
  "format_version": 1, "weight": generator state dict without enc_q.* (fp16), "config": the
  config.json layout WITH "symbols", "symbols", "speakers": {name: id}, "language",
  "frontend", "info", "sr"}``;
- our package (``.zip``, ``source "package"``): ``<safe name>.pth`` (that file),
  ``config.json``, ``model_card.md`` and ``model_card.json``;
- an original VITS checkpoint (``source "original"``): ``G_<step>.pth`` (``{"model",
  "iteration", "optimizer", "learning_rate"}``) or a pretrained base (``{"model"}``) with the
  ``config.json`` beside it or given. The symbol table is the config's ``symbols`` list, else
  the published 178-symbol English table when ``enc_p.emb.weight`` has 178 rows and the
  cleaners are English; speaker names are the config's ``speakers`` (a list, or a dict of
  name -> id, as forks write), else ``"0"``... ``"n-1"``;
- a Timbre Studio training checkpoint (``ckpt_<step>.pt``, ``source "checkpoint"``).

Every refusal is a ``TtsModelError`` naming the file and what to do.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from backend.fsutil import atomic_write_bytes
from backend.kernel import JobError
from backend.models.vits import file_formats as ff
from backend.models.vits import file_package
from backend.models.vits.config import VitsConfig
from backend.models.vits.file_formats import NotATtsModel, TtsModelError
from backend.names import safe_name
from backend.protocol import E_BAD_ARGS, E_UNAVAILABLE

FORMAT = ff.FORMAT
FORMAT_VERSION = ff.FORMAT_VERSION
CONFIG_NAME = ff.CONFIG_NAME
__all__ = ["CONFIG_NAME", "FORMAT", "FORMAT_VERSION", "NotATtsModel", "TtsModel",
           "TtsModelError", "ids_for", "inference_file", "inspect_tts", "is_tts_file",
           "load_tts_model", "write_tts_model", "write_tts_package"]


@dataclass
class TtsModel:
    """A VITS model ready to speak: ``generator`` is in eval mode on the device asked for."""

    generator: nn.Module
    cfg: VitsConfig
    symbols: list[str]
    speakers: dict[str, int]
    language: str
    sample_rate: int
    path: Path
    source: str  # "export" | "package" | "original" | "checkpoint"
    name: str
    info: str = ""
    frontend: str = ""
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def multi_speaker(self) -> bool:
        """True when the generator takes a speaker id (``sid``)."""
        return self.cfg.n_speakers > 1  # as the original: one speaker has no table


# writing ----------------------------------------------------------------------------------
def _frontend_name(language: str) -> str:
    from backend.text import FrontendUnavailable, get

    try:
        return get(language).name
    except FrontendUnavailable:
        return ""


def inference_file(g_state: dict[str, torch.Tensor], cfg: VitsConfig, symbols: list[str],
                   speakers: dict[str, int], language: str, info: str = "") -> dict[str, Any]:
    """Our inference file as a dict: the weights without the posterior encoder, in fp16."""
    symbols = [str(s) for s in symbols]
    if len(symbols) != cfg.n_symbols:
        raise ValueError(f"{len(symbols)} symbols given for a model of {cfg.n_symbols}")
    weight = {k: v.detach().to("cpu", torch.float16).clone() if v.is_floating_point()
              else v.detach().cpu().clone()
              for k, v in g_state.items() if not k.startswith("enc_q.")}
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "weight": weight,
            "config": cfg.to_json(symbols), "symbols": symbols,
            "speakers": {str(k): int(v) for k, v in speakers.items()},
            "language": language, "frontend": _frontend_name(language), "info": str(info),
            "sr": int(cfg.sampling_rate)}


def _torch_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def write_tts_model(path: Path | str, g_state: dict[str, torch.Tensor], cfg: VitsConfig,
                    symbols: list[str], speakers: dict[str, int], language: str,
                    info: str = "") -> Path:
    """Write our inference file atomically (temp file, then rename)."""
    ckpt = inference_file(g_state, cfg, symbols, speakers, language, info)
    return atomic_write_bytes(Path(path), _torch_bytes(ckpt))


def _card_parts(card: Any) -> tuple[str, dict[str, Any]]:
    """(markdown, dict) of a ``backend.train.export.ModelCard``-like object or a dict."""
    if isinstance(card, dict):
        lines = [f"# {card.get('name', 'model')}", "", "| | |", "|---|---|"]
        lines += [f"| {k.replace('_', ' ')} | {v} |" for k, v in card.items() if k != "name"]
        return "\n".join(lines) + "\n", card
    return card.markdown(), card.to_dict()


def write_tts_package(path: Path | str, name: str, ckpt: dict[str, Any], card: Any) -> Path:
    """One zip: ``<safe_name(name)>.pth`` (``ckpt``, from ``inference_file``), its
    ``config.json``, ``model_card.md`` and ``model_card.json``; written atomically."""
    markdown, card_dict = _card_parts(card)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{safe_name(name)}.pth", _torch_bytes(ckpt))
        zf.writestr(CONFIG_NAME, json.dumps(ckpt["config"], indent=2, ensure_ascii=False))
        zf.writestr("model_card.md", markdown)
        zf.writestr("model_card.json", json.dumps(card_dict, indent=2, ensure_ascii=False))
    return atomic_write_bytes(Path(path), buf.getvalue())


# reading ----------------------------------------------------------------------------------
Shapes = Callable[[VitsConfig], dict[str, list[int]]]


def _read(path: Path | str, config: Path | str | None, *, mmap: bool,
          shapes: Shapes = ff.expected_shapes) -> ff.Found:
    src = Path(path).expanduser()
    if src.is_file() and zipfile.is_zipfile(src) and file_package.is_package(src):
        return _read_package(src, config, shapes)
    found = ff.read_any(src, config, mmap=mmap)
    ff.check_shapes(found, shapes(found.cfg))
    return found


def _read_package(src: Path, config: Path | str | None, shapes: Shapes) -> ff.Found:
    """The package's model, copied out of the zip into a temporary folder and read there."""
    tmp = Path(tempfile.mkdtemp(prefix="timbre-tts-"))
    try:
        member, card = file_package.extract_package_model(src, tmp / "model.pth")
        found = ff.read_any(member, config, mmap=False, shown=src)
        if found.source != "export":
            raise TtsModelError(f"{src.name} holds a model that is not a Timbre Studio "
                                "text-to-speech file: export the model again")
        ff.check_shapes(found, shapes(found.cfg))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    found.source, found.path, found.card = "package", src, card
    found.name = str(card.get("name") or src.stem)
    return found


def _device(device: str) -> str:
    """"auto" is CUDA where there is one, else the CPU."""
    if device in ("auto", "", None):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise JobError(f"device {device} was asked for but CUDA is not available here; "
                       "use the CPU", code=E_UNAVAILABLE)
    return device


def load_tts_model(path: Path | str, config: Path | str | None = None,
                   device: str = "cpu") -> TtsModel:
    """Read any VITS file (ours or the original's) and build its generator, in float32, on
    ``device`` ("cpu", "cuda", "cuda:N" or "auto")."""
    device = _device(device)
    built: list[nn.Module] = []

    def shapes(cfg: VitsConfig) -> dict[str, list[int]]:
        built.append(ff.build(cfg))  # the generator itself: built once, checked, loaded
        return ff.shapes_of(built[-1])

    # mapped, not read: an original G_ file's optimizer state is never loaded
    found = _read(path, config, mmap=True, shapes=shapes)
    net = built[-1]
    del net.enc_q  # the posterior encoder only serves training
    state = {k: v.float() if v.is_floating_point() else v for k, v in found.state.items()
             if not k.startswith("enc_q.")}
    net.load_state_dict(state, strict=True)
    net = net.eval().to(device)
    return TtsModel(generator=net, cfg=found.cfg, symbols=found.symbols,
                    speakers=found.speakers, language=found.language,
                    sample_rate=found.cfg.sampling_rate, path=found.path, source=found.source,
                    name=found.name, info=found.info, frontend=found.frontend, card=found.card)


def inspect_tts(path: Path | str, config: Path | str | None = None) -> dict[str, Any]:
    """Every check ``load_tts_model`` makes, without loading the weights into a generator
    (the shapes it needs are kept per config): what the models library lists."""
    found = _read(path, config, mmap=True)
    return {"name": found.name, "path": str(found.path), "source": found.source,
            "language": found.language, "frontend": found.frontend,
            "speakers": sorted(found.speakers, key=lambda s: found.speakers[s]),
            "n_speakers": found.cfg.n_speakers, "sample_rate": found.cfg.sampling_rate,
            "n_symbols": found.cfg.n_symbols, "use_sdp": found.cfg.use_sdp,
            "info": found.info, "stored_dtype": ff.stored_dtype(found.state),
            "config_path": str(found.config_path) if found.config_path else None,
            "weights_path": str(found.weights_path), "card": found.card}


def is_tts_file(obj: Any) -> bool:
    """Whether what the safe loader read from a file is a VITS text-to-speech model."""
    return ff.kind_of(obj) is not None


# text -> ids -----------------------------------------------------------------------------
def ids_for(model: TtsModel, text: str) -> tuple[list[int], Any]:
    """The model's input ids for ``text`` (blanks interspersed when the config adds them)
    and the front-end's ``Reading`` (its ``unsupported`` characters are left out of the
    ids; the caller says so). A symbol the model's table lacks is named."""
    from backend.text import FrontendUnavailable, get
    from backend.text.symbols import intersperse, symbol_ids

    if not model.language:
        raise TtsModelError(f"{model.path.name} does not say which language it reads (its "
                            "config names no known text cleaners): it cannot be given text")
    try:
        frontend = get(model.language)
    except FrontendUnavailable as exc:
        raise TtsModelError(f"{model.name} reads {model.language}: {exc.message}") from None
    reading = frontend.read(text)
    table = symbol_ids(model.symbols)
    missing = [s for s in dict.fromkeys(reading.symbols) if s not in table]
    if missing:
        shown = ", ".join(repr(s) for s in missing[:8])
        raise TtsModelError(
            f"{model.name} has no symbol for {shown} (the {frontend.name} reading of this "
            f"text uses it; the model's table of {len(model.symbols)} symbols was made for "
            "another front-end): reword the text, or use a model trained with this front-end")
    ids = [table[s] for s in reading.symbols]
    if not ids:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise TtsModelError(f"{shown!r} has nothing the {frontend.name} front-end can read "
                            "aloud (no letters, words or numbers): type some text",
                            code=E_BAD_ARGS)
    return (intersperse(ids, 0) if model.cfg.add_blank else ids), reading
