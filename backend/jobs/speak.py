"""Speak a text with a text-to-speech (VITS) model, optionally in a voice-model's voice.

The model: our export (``.pth``) or package (``.zip``), or an original VITS ``G_<step>.pth``
with its ``config.json`` beside it (or ``--config``). Long text is spoken sentence by
sentence and joined with short fades and pauses (docs/tts.md, "Speaking"). ``--voice``
passes the speech through a voice-conversion model (``.pth`` or ``.zip``) of the models
library, ``--voice-key`` semitones higher or lower. The result is a 16-bit wav: ``--out``,
or (a job without ``out``) a new file in the app's cache folder.
"""

from __future__ import annotations

import argparse
import io
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from backend.convert.settings import PITCH_METHODS, ConvertSettings
from backend.convert.voice_model import NotAVoiceModel
from backend.fsutil import atomic_write_bytes, describe_os_error
from backend.jobs.common import in_thread
from backend.kernel import BadArgs, JobCancelled, JobContext, JobError
from backend.tts.speak import SpeakSettings, Speech

KEEP_CACHED = 50  # spoken files kept in the cache folder (the newest)
_SCALES = ("length_scale", "noise_scale", "noise_scale_w")


@dataclass(frozen=True)
class SpeakParams:
    model: Path
    config: Path | None
    text: str
    speaker: str | int | None
    settings: SpeakSettings
    voice: Any | None  # backend.jobs.conversion.PartPaths
    voice_settings: ConvertSettings | None
    out: Path | None  # None: a new file in the cache folder
    device: str


def prepare(args: dict) -> SpeakParams:
    from backend.jobs.extract import _device
    from backend.tts.speak import plan

    model = _existing(args.get("model"), "model", "a text-to-speech model: an exported .pth "
                      "or .zip, or an original VITS G_<step>.pth")
    config = _existing(args["config"], "config", "the model's config.json") \
        if args.get("config") else None
    text = args.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadArgs("'text' is required: type or paste what to say")
    info = _inspect(model, config)
    plan(text, info.get("language") or "", info["name"])  # nothing to say: said now
    speaker = _check_speaker(info, args.get("speaker"))
    voice, voice_cfg = _voice(args)
    return SpeakParams(model, config, text, speaker, SpeakSettings.from_args(args), voice,
                       voice_cfg, _out(args.get("out")), _device(str(args.get("device")
                                                                     or "auto")))


def _existing(value: object, name: str, what: str) -> Path:
    if not value or not isinstance(value, str | Path):
        raise BadArgs(f"'{name}' is required: {what}")
    path = Path(value).expanduser()
    if not path.exists():
        raise JobError(f"{path} does not exist: give {what}", code="not_found")
    if path.is_dir():
        raise BadArgs(f"{path} is a folder: give {what}")
    return path


def _inspect(model: Path, config: Path | None) -> dict[str, Any]:
    """What the model file holds (``TtsModelError`` names what a wrong file is and what to
    choose), read without building its weights."""
    from backend.models.vits.files import inspect_tts

    return inspect_tts(model, config)


def _check_speaker(info: dict[str, Any], speaker: object) -> str | int | None:
    """The speaker argument; an unknown speaker is refused before the job starts, when the
    file's speaker names are its ids in order (always for ours; the job checks again
    against the loaded table)."""
    from backend.tts.speak import speaker_in

    if isinstance(speaker, bool) or speaker is not None and not isinstance(speaker, str | int):
        raise BadArgs(f"speaker must be a speaker's name or id, not {speaker!r}")
    names, count = list(info.get("speakers") or []), int(info.get("n_speakers") or 0)
    if not count or len(names) == count:
        speaker_in({n: i for i, n in enumerate(names[:max(count, 1)])}, count, info["name"],
                   speaker)
    return speaker


def _voice(args: dict) -> tuple[Any | None, ConvertSettings | None]:
    if not args.get("voice"):
        return None, None
    from backend.jobs import conversion
    from backend.tts.voice import voice_settings

    key = args.get("voice_key")
    settings = voice_settings(0.0 if key is None else key, args.get("voice_f0"),
                              args.get("voice_index_rate"))
    try:
        parts = conversion.resolve(str(args["voice"]), index=args.get("voice_index"),
                                   encoder=args.get("voice_encoder"),
                                   f0_method=settings.f0_method)
    except NotAVoiceModel:
        _not_a_tts_model_either(Path(str(args["voice"])).expanduser())
        raise
    return parts, settings


def _not_a_tts_model_either(path: Path) -> None:
    """A text-to-speech model given as the voice: say where it goes instead."""
    from backend.models.vits.files import TtsModelError, inspect_tts

    try:
        inspect_tts(path)
    except (TtsModelError, OSError):
        return
    raise NotAVoiceModel(f"{path.name} is a text-to-speech model, not a voice to speak in: "
                         "choose it as the model that speaks, and as the voice a "
                         "voice-conversion (RVC) model (.pth or .zip) of the models library")


def _out(value: object) -> Path | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | Path):
        raise BadArgs(f"out must be the path of a .wav file, not {value!r}")
    out = Path(value).expanduser()
    if out.is_dir():
        raise BadArgs(f"--out {out} is a folder; give the .wav file to write")
    if out.suffix.lower() != ".wav":
        raise BadArgs(f"--out {out.name} is not a .wav file name; the speech is written as "
                      "a wav (for example speech.wav)")
    return out


def project_folder(params: SpeakParams) -> None:
    return None


def run(params: SpeakParams, ctx: JobContext) -> dict:
    from backend.tts.speak import resolve_speaker

    model = _load(params, ctx)
    sid, speaker = resolve_speaker(model, params.speaker)
    started = time.monotonic()
    speech = _worker(ctx, "speak-worker", lambda check: _speak(model, params, sid, ctx,
                                                               check))
    speed = speech.seconds / max(time.monotonic() - started, 1e-6)
    for u in speech.unsupported:
        ctx.log(f"not read: {u['name']} ({u['codepoint']}) at character {u['index'] + 1}",
                "warning")
    voice = None
    if params.voice is not None:
        speech, voice = _convert(speech, params, ctx)
    ctx.check()  # a cancel while the last sentence was spoken
    out = params.out or _cache_file(model.name)
    _write(out, speech)
    return {"out": str(out), "seconds": round(speech.seconds, 3),
            "sample_rate": speech.sample_rate,
            "sentences": [asdict(s) for s in speech.sentences],
            "speaker": speaker, "speaker_id": sid, "voice": voice,
            "voice_key": None if voice is None else params.voice_settings.key,
            "model": model.name, "language": model.language, "reading": speech.reading(),
            "settings": params.settings.to_dict(), "speed": round(speed, 2)}


def _load(params: SpeakParams, ctx: JobContext) -> Any:
    from backend.models.vits.files import load_tts_model

    ctx.progress("loading the model", 0, 1, force=True)
    model = load_tts_model(params.model, config=params.config, device=params.device)
    ctx.progress("loading the model", 1, 1, force=True)
    return model


def _speak(model: Any, params: SpeakParams, sid: int | None, ctx: JobContext,
           check: Callable[[], None]) -> Speech:
    from backend.models.vits.files import TtsModelError
    from backend.tts.speak import speak

    try:
        return speak(model, params.text, params.settings, sid, check=check,
                     progress=lambda d, t: ctx.progress("speaking", d, t, force=True))
    except TtsModelError as exc:  # a symbol the model lacks
        raise BadArgs(str(exc)) from exc


def _convert(speech: Speech, params: SpeakParams, ctx: JobContext) -> tuple[Speech, str]:
    from backend.jobs import conversion
    from backend.tts import voice

    settings = params.voice_settings
    ctx.progress("loading the voice", 0, 1, force=True)
    parts = conversion.load(params.voice, device=params.device, f0_method=settings.f0_method,
                            index_rate=settings.index_rate, log=ctx.log)
    conv = voice.converter(parts, params.device)
    ctx.progress("loading the voice", 1, 1, force=True)

    def progress(done: float, total: float) -> None:
        ctx.progress("converting", round(done, 2), round(total, 2))

    converted = _worker(ctx, "speak-voice", lambda check: voice.convert_speech(
        conv, speech, settings, check=check, progress=progress))
    ctx.progress("converting", round(speech.seconds, 2), round(speech.seconds, 2),
                 force=True)
    return converted, parts.model.name


def _worker(ctx: JobContext, name: str, fn: Callable[[Callable[[], None]], Any]) -> Any:
    """``fn(check)`` in a worker thread while this one answers a cancel; its result."""

    def work(stop: Any, put: Callable[[Any], None]) -> None:
        def check() -> None:
            if stop.is_set() or ctx.cancelled:
                raise JobCancelled()

        try:
            put(("ok", fn(check)))
        except BaseException as exc:  # handed to the job thread
            put(("error", exc))

    (kind, value), = in_thread(ctx, work, 1, name=name)
    if kind == "error":
        raise value
    return value


def _cache_file(model_name: str) -> Path:
    """A new file in ``<data dir>/cache/speech`` (the oldest beyond ``KEEP_CACHED`` go)."""
    from backend.assets.store import data_dir
    from backend.names import safe_name

    folder = data_dir() / "cache" / "speech"
    old = sorted(folder.glob("*.wav"), key=lambda p: p.stat().st_mtime) \
        if folder.is_dir() else []
    for path in old[:max(0, len(old) - KEEP_CACHED + 1)]:
        path.unlink(missing_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return folder / f"{safe_name(model_name, fallback='speech')}-{stamp}-" \
                    f"{secrets.token_hex(3)}.wav"


def _write(out: Path, speech: Speech) -> None:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, speech.audio, speech.sample_rate, format="WAV", subtype="PCM_16")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, buf.getvalue())
    except OSError as exc:
        raise JobError(describe_os_error(exc, "writing", out,
                                         retry="speak again, or choose another file"),
                       code="io_error") from exc


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    d, v = SpeakSettings(), ConvertSettings()
    parser.add_argument("--model", required=True, help="text-to-speech model: exported .pth "
                        "or .zip, or an original VITS G_<step>.pth")
    parser.add_argument("--config", help="the config.json of an original VITS checkpoint "
                        "(default: the one beside it)")
    text = parser.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="what to say")
    text.add_argument("--text-file", help="a UTF-8 text file to read aloud (- reads stdin)")
    parser.add_argument("--speaker", help="speaker name or id (multi-speaker models)")
    parser.add_argument("--length-scale", type=float, default=d.length_scale,
                        help="speed: 2 speaks twice as slowly, 0.5 twice as fast (0.25-4)")
    parser.add_argument("--noise-scale", type=float, default=d.noise_scale,
                        help="variation of the voice (0-2)")
    parser.add_argument("--noise-scale-w", type=float, default=d.noise_scale_w,
                        help="variation of the timing (0-2; stochastic duration only)")
    parser.add_argument("--voice", help="speak in this voice: a voice model (.pth or .zip)")
    parser.add_argument("--voice-key", type=float, default=0.0,
                        help="pitch shift of the voice pass in semitones")
    parser.add_argument("--voice-f0", default=v.f0_method, choices=PITCH_METHODS,
                        help="pitch method of the voice pass")
    parser.add_argument("--voice-index", help="retrieval index of the voice (default: its own)")
    parser.add_argument("--voice-index-rate", type=float, default=v.index_rate)
    parser.add_argument("--voice-encoder", help="content encoder of the voice pass: asset "
                        "name or file (default: hubert-base)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--out", required=True, help="the .wav file to write")


def args_from_cli(ns: argparse.Namespace) -> dict:
    text = ns.text if ns.text is not None else _read_text(ns.text_file)
    return {"model": ns.model, "config": ns.config, "text": text, "speaker": ns.speaker,
            **{k: getattr(ns, k) for k in _SCALES}, "voice": ns.voice,
            "voice_key": ns.voice_key, "voice_f0": ns.voice_f0, "voice_index": ns.voice_index,
            "voice_index_rate": ns.voice_index_rate, "voice_encoder": ns.voice_encoder,
            "device": ns.device, "out": ns.out}


def _read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name).expanduser()
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadArgs(f"--text-file {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise BadArgs(f"--text-file {path} is not UTF-8 text (byte {exc.start}); save it as "
                      "UTF-8 and try again") from None
    except OSError as exc:
        raise BadArgs(describe_os_error(exc, "reading", path, retry="choose another file")
                      ) from None
