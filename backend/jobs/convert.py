"""Convert recordings (files and folders) with a voice model.

Each input becomes ``<out>/<input stem>_<model name>.wav`` (16-bit PCM at the model's rate,
or ``output_rate``); an existing file is never overwritten (`` (2)``, `` (3)``… instead).
A file that cannot be read or converted is reported (event ``convert.file`` with its
``error``) and the others go on. ``preview: true`` converts the built-in phrase
(resources/preview/phrase.wav) into a temporary folder when ``out`` is not given.
"""

from __future__ import annotations

import argparse
import io
import queue
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.convert.settings import PITCH_METHODS, ConvertSettings
from backend.fsutil import atomic_write_bytes, describe_os_error
from backend.jobs.conversion import PartPaths
from backend.kernel import BadArgs, JobCancelled, JobContext, JobError
from backend.resources import resource

PREVIEW_PHRASE = resource("preview", "phrase.wav")
_POLL_S = 0.2
_SETTING_ARGS = ("key", "f0_method", "index_rate", "protect", "rms_mix", "filter_radius",
                 "output_rate", "speaker")


@dataclass(frozen=True)
class ConvertParams:
    parts: PartPaths  # the model, its index, the encoder and rmvpe (backend/jobs/conversion.py)
    inputs: list[Path]
    problems: list[dict[str, str]]  # inputs that are not usable audio files: {path, message}
    out: Path | None  # None: a new temporary folder (preview)
    settings: ConvertSettings
    device: str
    preview: bool


def prepare(args: dict) -> ConvertParams:
    from backend.jobs import conversion as loading
    from backend.jobs.extract import _device

    if not args.get("model"):
        raise BadArgs("'model' is required: a voice model file (.pth) or model package (.zip)")
    settings = ConvertSettings.from_args({k: args.get(k) for k in _SETTING_ARGS})
    parts = loading.resolve(args["model"], index=args.get("index"),
                            encoder=args.get("encoder"), f0_method=settings.f0_method)
    preview = bool(args.get("preview"))
    inputs, problems = _inputs(args.get("inputs") or [], preview)
    out = Path(args["out"]).expanduser() if args.get("out") else None
    if out is None and not preview:
        raise BadArgs("'out' is required: the folder the converted files go to")
    if out is not None and out.exists() and not out.is_dir():
        raise BadArgs(f"--out {out} is a file; give a folder for the converted recordings")
    return ConvertParams(parts, inputs, problems, out, settings,
                         _device(str(args.get("device") or "auto")), preview)


def _inputs(raw: list[Any], preview: bool) -> tuple[list[Path], list[dict[str, str]]]:
    from backend.dataset.sources import scan_inputs

    if preview:
        if raw:
            raise BadArgs("'preview' converts the built-in phrase: give no inputs with it")
        return [PREVIEW_PHRASE], []
    if isinstance(raw, str | Path):
        raw = [raw]
    if not raw:
        raise BadArgs("no inputs: give the recordings (files or folders) to convert")
    files, problems = scan_inputs([str(p) for p in raw])
    if not files:
        raise BadArgs("nothing to convert: " + "; ".join(p["message"] for p in problems))
    return files, problems


def project_folder(params: ConvertParams) -> None:
    return None


def run(params: ConvertParams, ctx: JobContext) -> dict:
    out = params.out or Path(tempfile.mkdtemp(prefix="timbre-preview-"))
    _make_folder(out)
    converter, model_name = _converter(params, ctx)
    from backend.names import safe_name

    total, durations = _durations(params.inputs)
    outputs: list[dict[str, Any]] = []
    for problem in params.problems:
        _report(ctx, outputs, problem["path"], None, 0.0, problem["message"])
    done = 0.0
    taken: set[Path] = set()
    for path in params.inputs:
        ctx.check()
        ctx.progress("converting", round(done, 2), round(total, 2), force=True,
                     detail=path.name)
        target = _free_name(out / f"{safe_name(path.stem)}_{safe_name(model_name)}.wav", taken)
        base = done
        error = seconds = None
        try:
            seconds = _convert_file(converter, params.settings, path, target, ctx,
                                    lambda d, t, n=path.name, b=base: ctx.progress(
                                        "converting", round(b + d, 2), round(total, 2),
                                        detail=n))
            taken.add(target)
        except JobCancelled:
            raise
        except Exception as exc:  # this file only: the others go on
            error = _describe(path, exc)
            ctx.log(error, "error")
        done += durations.get(path, 0.0)
        _report(ctx, outputs, str(path), None if error else str(target),
                seconds or durations.get(path, 0.0), error)
    ctx.progress("converting", round(total, 2), round(total, 2), force=True)
    converted = sum(1 for o in outputs if o["error"] is None)
    return {"outputs": outputs, "converted": converted, "failed": len(outputs) - converted,
            "out": str(out)}


def _make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise JobError(describe_os_error(exc, "creating", out, retry="choose another folder"),
                       code="io_error") from exc


def _converter(params: ConvertParams, ctx: JobContext) -> tuple[Any, str]:
    from backend.convert.pipeline import Converter
    from backend.jobs import conversion as loading

    ctx.progress("loading the model", 0, 1, force=True)
    parts = loading.load(params.parts, device=params.device,
                         f0_method=params.settings.f0_method,
                         index_rate=params.settings.index_rate, log=ctx.log)
    ctx.check()
    conv = Converter(parts.model, encoder=parts.encoder, f0=parts.f0,
                     retrieval=parts.retrieval, device=params.device)
    ctx.progress("loading the model", 1, 1, force=True)
    return conv, parts.model.name


def _durations(paths: list[Path]) -> tuple[float, dict[Path, float]]:
    from backend.dataset.audio_io import probe

    durations: dict[Path, float] = {}
    for path in paths:
        try:
            durations[path] = float(probe(path).duration)
        except Exception:  # reported when its turn comes
            durations[path] = 0.0
    return sum(durations.values()), durations


def _free_name(path: Path, taken: set[Path]) -> Path:
    """``path``, or ``<stem> (2).wav``, ``(3)``… when that exists or is taken in this batch."""
    candidate, n = path, 1
    while candidate.exists() or candidate in taken:
        n += 1
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
    return candidate


def _convert_file(converter: Any, settings: ConvertSettings, path: Path, target: Path,
                  ctx: JobContext, progress: Callable[[float, float], None]) -> float:
    """Convert in a worker thread (this thread answers cancel within ``_POLL_S``), then write
    the wav atomically; returns the input's length in seconds."""
    from backend.dataset.audio_io import load

    results: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def check() -> None:
        if stop.is_set():
            raise JobCancelled()

    def work() -> None:
        try:
            audio, sr = load(path, mono=True)
            results.put(("ok", (converter.convert(audio, sr, settings, check=check,
                                                  progress=progress), audio.shape[0] / sr)))
        except BaseException as exc:  # handed to the job thread
            results.put(("error", exc))

    # not a daemon: after a cancel it stops at its next check, and the process waits for
    # that at exit (a daemon thread inside torch at exit aborts the process)
    threading.Thread(target=work, name="convert-worker").start()
    try:
        while True:
            ctx.check()
            try:
                kind, value = results.get(timeout=_POLL_S)
                break
            except queue.Empty:
                continue
    finally:
        stop.set()
    if kind == "error":
        raise value
    (audio, rate), seconds = value
    _write_wav(target, audio, rate)
    return round(seconds, 3)


def _write_wav(target: Path, audio: Any, rate: int) -> None:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio, rate, format="WAV", subtype="PCM_16")
    atomic_write_bytes(target, buf.getvalue())


def _describe(path: Path, exc: Exception) -> str:
    if isinstance(exc, OSError):
        return describe_os_error(exc, "writing the conversion of", path,
                                 retry="free some space or choose another folder")
    text = exc.message if isinstance(exc, JobError) else str(exc) or type(exc).__name__
    return text if str(path.name) in text else f"{path}: {text}"


def _report(ctx: JobContext, outputs: list[dict[str, Any]], inp: str, output: str | None,
            seconds: float, error: str | None) -> None:
    row = {"input": inp, "output": output, "seconds": round(seconds, 3), "error": error}
    outputs.append(row)
    ctx.event("convert.file", row)


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    d = ConvertSettings()
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="audio files or folders")
    parser.add_argument("--model", required=True, help="voice model (.pth) or package (.zip)")
    parser.add_argument("--index", help="retrieval index (default: the model's, if found)")
    parser.add_argument("--encoder", help="content encoder: asset name or file "
                        "(default: hubert-base)")
    parser.add_argument("--out", help="folder for the converted files")
    parser.add_argument("--key", type=float, default=d.key, help="pitch shift in semitones")
    parser.add_argument("--f0", dest="f0_method", default=d.f0_method, choices=PITCH_METHODS,
                        help="pitch method")
    parser.add_argument("--index-rate", type=float, default=d.index_rate)
    parser.add_argument("--protect", type=float, default=d.protect,
                        help="consonant protection (0.5: off)")
    parser.add_argument("--rms-mix", type=float, default=d.rms_mix,
                        help="1 keeps the output's loudness envelope, 0 imposes the input's")
    parser.add_argument("--filter-radius", type=int, default=d.filter_radius)
    parser.add_argument("--output-rate", type=int, help="output sample rate (default: model's)")
    parser.add_argument("--speaker", type=int, default=d.speaker)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--preview", action="store_true",
                        help="convert the built-in phrase instead of inputs")


def args_from_cli(ns: argparse.Namespace) -> dict:
    return {"model": ns.model, "index": ns.index, "encoder": ns.encoder, "inputs": ns.inputs,
            "out": ns.out, "device": ns.device, "preview": ns.preview,
            **{k: getattr(ns, k) for k in _SETTING_ARGS}}
