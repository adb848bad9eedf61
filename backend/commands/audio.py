"""Audio commands for the waveform editor: analysis and playback.

- ``audio.analyze`` {path, cache_dir} -> {data, duration, sample_rate, channels, cached}
- ``audio.play`` {path, start?, end?, device?} -> {playing, duration, play_id, ...}
- ``audio.stop`` {} -> {stopped}
- ``audio.devices`` {} -> {outputs: [{index, name, default_samplerate, channels}], default}

Playback reports ``audio.position`` {t, playing, play_id} about 25 times a
second and ``audio.finished`` {t, xruns, stopped, play_id} once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.audio import analysis
from backend.audio.player import AudioUnavailable, Player, list_outputs
from backend.commands import CommandError, command
from backend.dataset.audio_io import AudioLoadError
from backend.protocol import E_BAD_ARGS, E_NOT_FOUND, E_UNAVAILABLE


def _str_arg(args: dict, name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value:
        raise CommandError(f"'{name}' must be a non-empty string (a file or folder path)",
                           code=E_BAD_ARGS)
    return value


def _num_arg(args: dict, name: str, default: float | None) -> float | None:
    value = args.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CommandError(f"'{name}' must be a number of seconds", code=E_BAD_ARGS)
    return float(value)


def _require_file(path: str) -> None:
    if not Path(path).is_file():
        raise CommandError(f"audio file not found: '{path}': check the path or re-import "
                           "the recording", code=E_NOT_FOUND)


def player_of(server: Any) -> Player:
    """The server's single player, created on first use."""
    player = server.state.get("player")
    if player is None:
        player = server.state.setdefault("player", Player(server.emit))
    return player


@command("audio.analyze")
def analyze(args: dict, server: Any) -> dict:
    path = _str_arg(args, "path")
    cache_dir = _str_arg(args, "cache_dir")
    _require_file(path)
    try:
        return analysis.analyze(path, cache_dir)
    except AudioLoadError as exc:
        raise CommandError(f"{exc} ({exc.path})", code=E_BAD_ARGS) from exc


@command("audio.play")
def play(args: dict, server: Any) -> dict:
    path = _str_arg(args, "path")
    start = _num_arg(args, "start", 0.0) or 0.0
    end = _num_arg(args, "end", None)
    device = args.get("device")
    if device is not None and (isinstance(device, bool) or not isinstance(device, (int, str))):
        raise CommandError("'device' must be a device index or a name", code=E_BAD_ARGS)
    _require_file(path)
    try:
        return player_of(server).play(path, start, end, device)
    except AudioUnavailable as exc:
        raise CommandError(str(exc), code=E_UNAVAILABLE) from exc
    except AudioLoadError as exc:
        raise CommandError(f"{exc} ({exc.path})", code=E_BAD_ARGS) from exc


@command("audio.stop")
def stop(args: dict, server: Any) -> dict:
    player = server.state.get("player")
    if player is None:
        return {"stopped": False}
    return player.stop()


@command("audio.devices")
def devices(args: dict, server: Any) -> dict:
    return list_outputs()
