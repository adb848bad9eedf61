"""Real-time conversion: microphone to speaker (or a file through the same engine).

Runs until cancelled (Ctrl-C), ``--seconds`` or the end of ``--input-file``. Reports
``live.state`` and about four ``live.stats`` a second; takes ``job.control`` values (key,
index_rate, protect, gate_db, block, crossfade, extra, monitor, bypass) while it runs.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.convert.settings import ConvertSettings
from backend.jobs.conversion import PartPaths
from backend.kernel import BadArgs, JobContext
from backend.live.engine import EngineConfig

CONVERTERS = ("voice", "identity")


@dataclass(frozen=True)
class LiveParams:
    parts: PartPaths | None  # the model, its index, encoder and rmvpe (None: identity)
    settings: ConvertSettings
    config: EngineConfig
    input_device: int | str | None = None
    output_device: int | str | None = None
    input_host_api: int | str | None = None
    output_host_api: int | str | None = None
    exclusive: bool = False
    input_file: Path | None = None
    output_file: Path | None = None
    seconds: float | None = None
    list_devices: bool = False
    converter: str = "voice"  # "identity": no model, the input resampled (tests, checks)
    identity_rate: int = 48000
    device: str = "cpu"  # where the model runs


def make_converter(params: LiveParams, log: Callable[[str], None] = lambda _m: None) -> Any:
    """THE ONE place a live job gets its ``BlockConverter`` (backend/live/converter_api.py).

    ``identity`` plays the input resampled to ``identity_rate`` (no model); ``voice`` loads
    the parts once (``backend.jobs.conversion``, as the ``convert`` job does) and streams
    them through ``backend.live.converter.VoiceConverter``.
    """
    if params.converter == "identity" or params.parts is None:
        from backend.live.identity import IdentityConverter

        return IdentityConverter(params.identity_rate)
    from backend.jobs import conversion as loading
    from backend.live.converter import VoiceConverter

    parts = loading.load(params.parts, device=params.device,
                         f0_method=params.settings.f0_method,
                         index_rate=params.settings.index_rate, log=log)
    return VoiceConverter(parts.model, parts.encoder, parts.f0, parts.retrieval)


# arguments ---------------------------------------------------------------------------
def _device(args: dict, name: str) -> int | str | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadArgs(f"'{name}' must be a device index or part of its name")
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def _path(args: dict, name: str) -> Path | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadArgs(f"'{name}' must be a file path")
    return Path(value).expanduser()


def _files(args: dict) -> tuple[Path | None, Path | None]:
    src, dst = _path(args, "input_file"), _path(args, "output_file")
    if (src is None) != (dst is None):
        raise BadArgs("input_file and output_file go together: give both, or neither to use "
                      "the audio devices")
    if src is None or dst is None:
        return None, None
    if not src.is_file():
        raise BadArgs(f"input file not found: '{src}'")
    if dst.exists() and dst.resolve() == src.resolve():
        raise BadArgs(f"output_file '{dst}' is the input file: choose another name")
    if not dst.parent.is_dir():
        raise BadArgs(f"the folder of output_file does not exist: '{dst.parent}'")
    return src, dst


def _config(args: dict) -> EngineConfig:
    names = [f.name for f in dataclasses.fields(EngineConfig) if f.name != "margin"]
    values = {k: args[k] for k in names if args.get(k) is not None}
    return EngineConfig(**values).check()


def prepare(args: dict) -> LiveParams:
    converter = args.get("converter", "voice")
    if converter not in CONVERTERS:
        raise BadArgs(f"converter must be one of {', '.join(CONVERTERS)}")
    listing = bool(args.get("list_devices"))
    model = args.get("model")
    settings = ConvertSettings.from_args({**args, "output_rate": None})
    parts = None
    if converter == "voice" and not listing:
        if not isinstance(model, str) or not model:
            raise BadArgs("'model' must be the path of a voice model (.pth or package .zip)")
        from backend.jobs import conversion as loading

        parts = loading.resolve(model, index=args.get("index"), encoder=args.get("encoder"),
                                f0_method=settings.f0_method)
    seconds = args.get("seconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float)
                                or seconds <= 0):
        raise BadArgs("'seconds' must be a positive number of seconds")
    src, dst = _files(args)
    rate = args.get("identity_rate", 48000)
    if not isinstance(rate, int) or rate % 100 or not 8000 <= rate <= 192000:
        raise BadArgs("identity_rate must be a rate in Hz, a multiple of 100")
    from backend.jobs.extract import _device as compute_device

    return LiveParams(parts, settings, _config(args),
                      _device(args, "input_device"), _device(args, "output_device"),
                      _device(args, "input_host_api"), _device(args, "output_host_api"),
                      bool(args.get("exclusive")), src, dst,
                      float(seconds) if seconds is not None else None, listing, converter,
                      rate, compute_device(str(args.get("device") or "cpu")))


# running -----------------------------------------------------------------------------
def run(params: LiveParams, ctx: JobContext) -> dict:
    if params.list_devices:
        from backend.live import devices

        return devices.list_all()
    from backend.live.runner import run_devices, run_file

    converter = make_converter(params, ctx.log)
    if params.input_file is not None:
        return run_file(params, converter, ctx)
    return run_devices(params, converter, ctx)


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    a = parser.add_argument
    a("--model", help="voice model (.pth or exported package .zip)")
    a("--index", help="retrieval index (.index); default: the one beside the model")
    a("--encoder", help="content encoder: an installed asset name or a file")
    a("--f0", dest="f0_method", default="rmvpe", help="pitch method (rmvpe, harvest, crepe, pm...)")
    a("--device", default="cpu", help="where the model runs: cpu (default), cuda or auto")
    a("--input-device", help="input device: index or part of its name (--list-devices)")
    a("--output-device", help="output device: index or part of its name")
    a("--input-host-api", help="host API of the input (MME, WASAPI, ASIO, ALSA...)")
    a("--output-host-api", help="host API of the output")
    a("--exclusive", action="store_true", help="WASAPI exclusive mode (Windows)")
    a("--input-file", help="convert this file through the real-time engine (no devices)")
    a("--output-file", help="where --input-file's result goes (wav)")
    a("--block", type=float, default=0.25, help="seconds per block (default 0.25)")
    a("--crossfade", type=float, default=0.05, help="crossfade seconds (default 0.05)")
    a("--extra", type=float, default=1.0, help="left context seconds (default 1.0)")
    a("--gate-db", type=float, default=-50.0, help="input gate in dBFS, -120 off (default -50)")
    a("--key", type=float, default=0.0, help="pitch shift in semitones")
    a("--index-rate", type=float, default=0.75, help="retrieval blend 0..1 (default 0.75)")
    a("--protect", type=float, default=0.33, help="consonant protection 0..0.5 (0.5 off)")
    a("--seconds", type=float, help="stop after this many seconds")
    a("--bypass", action="store_true", help="play the input unconverted (same latency)")
    a("--no-monitor", dest="monitor", action="store_false", help="output silence")
    a("--list-devices", action="store_true", help="print the audio devices and exit")
    a("--converter", choices=CONVERTERS, default="voice", help=argparse.SUPPRESS)
    a("--identity-rate", type=int, default=48000, help=argparse.SUPPRESS)


def args_from_cli(ns: argparse.Namespace) -> dict:
    keys = ("model", "index", "encoder", "f0_method", "input_device", "output_device",
            "input_host_api", "output_host_api", "exclusive", "input_file", "output_file",
            "block", "crossfade", "extra", "gate_db", "key", "index_rate", "protect",
            "seconds", "bypass", "monitor", "list_devices", "converter", "identity_rate",
            "device")
    return {k: getattr(ns, k) for k in keys}
