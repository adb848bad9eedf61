"""The layouts of VITS model files, read and checked (``backend.models.vits.files`` is the API).

``read_any`` returns a ``Found``: the generator weights, the ``VitsConfig`` they fit, the
symbol table, the speakers and the language, whatever the file's layout (our inference
file, an original ``G_<step>.pth`` with its ``config.json``, our training checkpoint).
``check_shapes`` compares the weights with the generator the config describes, key by key.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from backend.kernel import JobError
from backend.models.vits.config import VitsConfig, published
from backend.protocol import E_BAD_ARGS, E_NOT_A_VOICE_MODEL, E_NOT_FOUND, E_UNSAFE_FILE
from backend.safeload import UnreadableFile, UnsafeFile, load_weights

FORMAT = "timbre-vits"
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
LIBRARY_CARD = "model.json"  # written by backend.convert.library beside model.pth
EMB = "enc_p.emb.weight"
PICK = ("choose a VITS text-to-speech model: a .pth or .zip exported by Timbre Studio, or "
        "an original VITS G_<step>.pth with its config.json")
_CLEANER_LANGUAGES = (("english", "en"), ("mandarin", "zh"), ("chinese", "zh"),
                      ("japanese", "ja"), ("korean", "ko"), ("cantonese", "yue"))


class TtsModelError(JobError, ValueError):
    """A file that cannot be used as a text-to-speech model; the message names the file and
    what to do. ``code`` is the protocol error code (``not_a_voice_model`` by default)."""

    code = E_NOT_A_VOICE_MODEL

    def __init__(self, message: str, *, code: str | None = None) -> None:
        JobError.__init__(self, message, code=code)


class NotATtsModel(TtsModelError):
    """The file is readable but holds no VITS model (the message says what it holds)."""


@dataclass
class Found:
    cfg: VitsConfig
    state: dict[str, torch.Tensor]
    symbols: list[str]
    speakers: dict[str, int]
    language: str
    source: str
    name: str
    path: Path
    weights_path: Path
    info: str = ""
    frontend: str = ""
    config_path: Path | None = None
    card: dict[str, Any] = field(default_factory=dict)


# what a file holds ------------------------------------------------------------------------
def _state_of(obj: Any) -> dict[str, Any] | None:
    if not isinstance(obj, dict):
        return None
    for key in ("weight", "model"):
        if isinstance(obj.get(key), dict):
            return obj[key]
    return obj


def _is_vits_state(state: Any) -> bool:
    return isinstance(state, dict) and EMB in state and not any(
        isinstance(k, str) and k.startswith("enc_p.emb_phone.") for k in state)


def kind_of(obj: Any) -> str | None:
    """"export", "checkpoint", "original" or None (not a VITS text-to-speech model)."""
    if not isinstance(obj, dict):
        return None
    if obj.get("format") == FORMAT:
        return "export"
    task = obj.get("task")
    if isinstance(task, dict) and isinstance(task.get("vits"), dict) and \
            isinstance(task.get("G"), dict):
        return "checkpoint"
    return "original" if _is_vits_state(_state_of(obj)) else None


def _not_tts(src: Path, obj: Any) -> NotATtsModel:
    """What a readable file that is no VITS model looks like, and what to choose."""
    state = _state_of(obj) or {}
    keys = [k for k in state if isinstance(k, str)]
    if isinstance(obj, dict) and isinstance(obj.get("config"), list | tuple) or \
            any(k.startswith("enc_p.emb_phone.") for k in keys):
        what = "an RVC voice model or checkpoint (voice conversion, not text-to-speech)"
        advice = ("use it on the Convert page, or on the Speak page as the voice to speak "
                  "in; as the text-to-speech model " + PICK)
    elif any(k.startswith("discriminators.") for k in keys):
        what = "the discriminator of a training run (D_<step>.pth)"
        advice = "choose the generator G_<step>.pth beside it, with its config.json"
    else:
        shown = ", ".join(keys[:3]) or "no weights"
        what = f"no VITS text-to-speech model ({len(keys)} entries, such as {shown})"
        advice = PICK
    return NotATtsModel(f"{src.name} is not a text-to-speech model: it holds {what}. "
                         f"{advice[:1].upper()}{advice[1:]}.")


def load_object(src: Path, *, mmap: bool, shown: Path | None = None) -> Any:
    shown = shown or src
    if not src.exists():
        raise TtsModelError(f"{shown} does not exist: {PICK}", code=E_NOT_FOUND)
    if src.is_dir():
        raise TtsModelError(f"{shown} is a folder: {PICK} inside it", code=E_BAD_ARGS)
    try:
        return load_weights(src, mmap=mmap)
    except FileNotFoundError:
        raise TtsModelError(f"{shown} does not exist: {PICK}", code=E_NOT_FOUND) from None
    except UnsafeFile as exc:
        raise TtsModelError(str(exc).replace(str(src), str(shown)),
                            code=E_UNSAFE_FILE) from None
    except UnreadableFile as exc:
        raise NotATtsModel(f"{shown.name} could not be read as a PyTorch file "
                            f"({exc.reason}): it is damaged or not a model file; {PICK}"
                            ) from None


def read_any(src: Path, config: Path | str | None, *, mmap: bool,
             shown: Path | None = None) -> Found:
    shown = shown or src
    obj = load_object(src, mmap=mmap, shown=shown)
    kind = kind_of(obj)
    if kind == "export":
        found = _export(shown, src, obj)
    elif kind == "checkpoint":
        found = _checkpoint(shown, obj)
    elif kind == "original":
        found = _original(shown, obj, Path(config).expanduser() if config else None)
    else:
        raise _not_tts(shown, obj)
    found.name = _library_name(shown) or found.name
    return found


def _library_name(src: Path) -> str:
    """The name the models library gave a model (its ``model.json`` beside ``model.pth``)."""
    card = src.with_name(LIBRARY_CARD)
    if src.name != "model.pth" or not card.is_file():
        return ""
    try:
        name = json.loads(card.read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        return ""
    return name if isinstance(name, str) else ""


def _tensors(src: Path, state: Any) -> dict[str, torch.Tensor]:
    if not isinstance(state, dict):
        raise TtsModelError(f"{src.name} holds no weights: {PICK}")
    bad = [str(k) for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise TtsModelError(f"{src.name} looks like a VITS model, but {len(bad)} of its "
                            f"weights are not tensors ({', '.join(bad[:4])}): the file is "
                            "damaged; export or download it again")
    return state


def _rows(state: dict[str, torch.Tensor], key: str = EMB) -> int:
    value = state.get(key)
    return int(value.shape[0]) if isinstance(value, torch.Tensor) and value.dim() else 0


def _speakers(src: Path, value: Any, count: int) -> dict[str, int]:
    """name -> id from a dict, a list of names, or nothing ("0" .. "n-1")."""
    if isinstance(value, dict):
        try:
            out = {str(k): int(v) for k, v in value.items()}
        except (TypeError, ValueError):
            raise TtsModelError(f"{src.name}: its speakers are not name -> number pairs; "
                                "export or fix the file again") from None
    elif isinstance(value, list | tuple):
        out = {str(name): i for i, name in enumerate(value)}
    else:
        out = {str(i): i for i in range(count)}
    bad = [n for n, i in out.items() if count and not 0 <= i < count]
    if bad:
        raise TtsModelError(f"{src.name} names speaker {bad[0]!r} with id {out[bad[0]]}, but "
                            f"its speaker table has {count} rows: the speaker list belongs to "
                            "another model")
    return out


def _symbols(src: Path, value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
        raise TtsModelError(f"{src.name} has no readable symbol table (a list of strings); "
                            "export the model again")
    return list(value)


# our inference file --------------------------------------------------------------------------
def _export(shown: Path, src: Path, obj: dict[str, Any]) -> Found:
    version = obj.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise TtsModelError(f"{shown.name} was written by a newer Timbre Studio (file format "
                            f"{version!r}, this one reads {FORMAT_VERSION}): update Timbre "
                            "Studio to use it", code=E_BAD_ARGS)
    state = _tensors(shown, obj.get("weight"))
    symbols = _symbols(shown, obj.get("symbols"))
    try:
        cfg = VitsConfig.from_json(obj.get("config"), n_symbols=len(symbols))
    except ValueError as exc:
        raise TtsModelError(f"{shown.name} has a damaged config ({exc}); export the model "
                            "again") from None
    speakers = _speakers(shown, obj.get("speakers"), cfg.n_speakers)
    return Found(cfg=cfg, state=state, symbols=symbols, speakers=speakers,
                 language=str(obj.get("language") or ""), source="export", name=shown.stem,
                 path=shown, weights_path=src, info=str(obj.get("info") or ""),
                 frontend=str(obj.get("frontend") or ""))


# an original VITS checkpoint ---------------------------------------------------------------
def language_of(conf: dict[str, Any]) -> str:
    """The language a config's text cleaners read ("" when they name none we know)."""
    given = conf.get("language")
    if isinstance(given, str) and given:
        return given
    cleaners = conf.get("data", {}).get("text_cleaners") if isinstance(conf.get("data"),
                                                                       dict) else None
    names = " ".join(str(c) for c in cleaners).lower() if isinstance(cleaners, list) else ""
    found = {lang for word, lang in _CLEANER_LANGUAGES if word in names}
    return found.pop() if len(found) == 1 else ""


def read_config(path: Path, model: Path) -> dict[str, Any]:
    if not path.is_file():
        raise TtsModelError(
            f"{model.name} is an original VITS checkpoint, but no {CONFIG_NAME} is beside it "
            f"({path.parent}): put the config.json it was trained with beside it, or give "
            "that file (Config field, --config)", code=E_BAD_ARGS)
    try:
        conf = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise TtsModelError(f"{path} is not valid JSON (line {exc.lineno}, column "
                            f"{exc.colno}: {exc.msg}): fix it or use the config.json the "
                            "model came with", code=E_BAD_ARGS) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TtsModelError(f"{path} could not be read ({exc}): use the config.json the model "
                            "came with", code=E_BAD_ARGS) from None
    if not isinstance(conf, dict):
        raise TtsModelError(f"{path} holds no JSON object: it is not a VITS config.json",
                            code=E_BAD_ARGS)
    return conf


def _original_symbols(src: Path, conf_path: Path, conf: dict[str, Any], rows: int,
                      language: str) -> list[str]:
    from backend.text.symbols import VITS_EN

    if "symbols" in conf:
        symbols = _symbols(conf_path, conf["symbols"])
    elif rows == len(VITS_EN) and language == "en":
        symbols = list(VITS_EN)
    else:
        raise TtsModelError(
            f"{conf_path} has no \"symbols\" list and {src.name} has {rows} text symbols (the "
            f"published English table has {len(VITS_EN)}): add the model's symbol table to "
            "the config as \"symbols\": [...] (the list in text/symbols.py of the code it was "
            "trained with)", code=E_BAD_ARGS)
    if len(symbols) != rows:
        raise TtsModelError(
            f"{conf_path} lists {len(symbols)} symbols, but {src.name} has {rows} "
            f"({EMB} is {rows} rows): the config belongs to another model; use the "
            "config.json it was trained with", code=E_BAD_ARGS)
    return symbols


def _original(src: Path, obj: dict[str, Any], config: Path | None) -> Found:
    state = _tensors(src, _state_of(obj))
    conf_path = config or src.with_name(CONFIG_NAME)
    conf = read_config(conf_path, src)
    language = language_of(conf)
    rows = _rows(state)
    symbols = _original_symbols(src, conf_path, conf, rows, language)
    try:
        cfg = VitsConfig.from_json(conf, n_symbols=rows)
    except ValueError as exc:
        raise TtsModelError(f"{conf_path} is not a VITS config ({exc}): use the config.json "
                            "the model was trained with", code=E_BAD_ARGS) from None
    speakers = _speakers(conf_path, conf.get("speakers"), cfg.n_speakers)
    step = obj.get("iteration")
    name = f"{src.parent.name} {src.stem}" if re.fullmatch(r"G_\d+", src.stem) and \
        src.parent.name else src.stem
    return Found(cfg=cfg, state=state, symbols=symbols, speakers=speakers, language=language,
                 source="original", name=name, path=src, weights_path=src,
                 info=f"epoch {step}" if isinstance(step, int) else "", config_path=conf_path)


# our training checkpoint ------------------------------------------------------------------
def checkpoint_config(vits: dict[str, Any], n_symbols: int) -> VitsConfig:
    """The model config of a run's settings (``VitsTrainConfig.to_dict()`` of
    backend.train.vits_task): the published ljs_base layout with the run's duration
    predictor, rate and speakers (a table from 2 speakers), ``tiny()`` at the tiny size."""
    cfg = replace(published("ljs_base", n_symbols), use_sdp=bool(vits.get("use_sdp", True)),
                  sampling_rate=int(vits.get("sample_rate", 22050)),
                  learning_rate=float(vits.get("learning_rate", 2e-4)))
    n = len(vits.get("speakers") or {})
    if n >= 2:
        cfg = cfg.with_speakers(n)
    return cfg.tiny() if vits.get("size") == "tiny" else cfg


def _checkpoint(src: Path, obj: dict[str, Any]) -> Found:
    task = obj["task"]
    vits = task["vits"]
    state = _tensors(src, task["G"])
    symbols = _symbols(src, vits.get("symbols"))
    try:
        cfg = checkpoint_config(vits, len(symbols))
    except (TypeError, ValueError) as exc:
        raise TtsModelError(f"{src.name}: the run's settings are damaged ({exc})") from None
    speakers = _speakers(src, vits.get("speakers"), cfg.n_speakers)
    info = f"epoch {obj.get('epoch')}, step {obj.get('step')}" if "step" in obj else ""
    return Found(cfg=cfg, state=state, symbols=symbols, speakers=speakers,
                 language=str(vits.get("language") or ""), source="checkpoint",
                 name=f"{src.parent.parent.name} {src.stem}", path=src, weights_path=src,
                 info=info)


# checks -----------------------------------------------------------------------------------
def build(cfg: VitsConfig, device: str | torch.device = "cpu") -> torch.nn.Module:
    from backend.models.vits.generator import VitsGenerator

    with torch.device(device):
        return VitsGenerator(cfg)


@functools.lru_cache(maxsize=16)
def expected_shapes(cfg: VitsConfig) -> dict[str, list[int]]:
    """The generator's state-dict shapes (kept per config: building takes a second for the
    standard size; the meta device is no faster, its first build much slower)."""
    return shapes_of(build(cfg))


def shapes_of(net: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in net.state_dict().items()}


def _differences(state: dict[str, torch.Tensor], want: dict[str, list[int]]) -> list[str]:
    def trained_only(k: str) -> bool:
        return k.startswith("enc_q.")

    out = [f"{k} is {list(v.shape)} in the file, {want[k]} in the model"
           for k, v in state.items() if k in want and list(v.shape) != want[k]]
    out += [f"{k} is missing" for k in want if k not in state and not trained_only(k)]
    out += [f"{k} is in the file but not in the model" for k in state
            if k not in want and not trained_only(k)]
    return out


def check_shapes(found: Found, want: dict[str, list[int]]) -> None:
    """Refuse weights that do not fit the generator the config describes, naming keys."""
    diff = _differences(found.state, want)
    if not diff:
        return
    shown = "; ".join(diff[:4]) + (f"; and {len(diff) - 4} more" if len(diff) > 4 else "")
    held = _rows(found.state, "emb_g.weight")
    table = found.cfg.n_speakers if found.cfg.n_speakers > 1 else 0  # 1: no table
    if held != table:
        said = table or "no"
        shown = f"the config says {said} speakers, the file holds {held or 'none'}: {shown}"
    if found.config_path is not None:
        fix = (f"{found.config_path.name} describes another model than {found.path.name}: "
               "use the config.json it was trained with")
        strangers = sum(1 for k in found.state if k not in want)
        if strangers > len(found.state) // 5:  # many names the original never had
            fix += (f" ({strangers} of its {len(found.state)} weights have names the "
                    "original VITS does not use: it may be another VITS variant, such as "
                    "VITS2 or MB-iSTFT-VITS, which Timbre Studio does not load)")
    else:
        fix = f"{found.path.name} is damaged or was changed by another tool: export it again"
    raise TtsModelError(f"{found.path.name} does not fit its configuration ({shown}). {fix}",
                        code=E_BAD_ARGS)


def stored_dtype(state: dict[str, torch.Tensor]) -> str:
    kinds = {v.dtype for v in state.values() if v.is_floating_point()}
    names = {torch.float16: "fp16", torch.float32: "fp32", torch.bfloat16: "bf16"}
    if len(kinds) == 1:
        return names.get(next(iter(kinds)), str(next(iter(kinds))).replace("torch.", ""))
    return "mixed" if kinds else "fp32"
