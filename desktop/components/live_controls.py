"""The Live page's controls and what a ``live`` job is started with (Qt-free).

``CONTROLS`` are the settings that can change while the stream runs (``job.control``):
key, index rate, protect, gate, block, crossfade (sliders) and monitor, bypass
(switches), with RVC's ranges and defaults. ``LiveControls`` holds their values, what
changed since the last ``job.control`` (one request at a time: a slider dragged for a
second sends its latest value, not fifty), and which changes the backend said need a
restart (``restart_needed``). ``LiveModel`` is one ``models.list`` entry;
``job_args`` builds the ``live`` job's arguments; ``load_stored``/``to_stored`` keep the
choices in the app settings under ``live``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from desktop.components.live_devices import INPUT, OUTPUT, AudioDevice, HostApi, Remembered

SETTINGS_KEY = "live"
LIVE_PITCH_METHODS = ("rmvpe", "pm", "crepe-tiny", "crepe", "harvest", "dio")
DEFAULT_PITCH = "rmvpe"


@dataclass(frozen=True)
class Control:
    name: str
    label: str
    minimum: float
    maximum: float
    step: float
    default: float
    unit: str  # "st", "", "dB", "ms" (seconds shown as ms)
    tip: str

    @property
    def steps(self) -> int:
        """The slider's last position (its first is 0)."""
        return round((self.maximum - self.minimum) / self.step)

    def clamp(self, value: float) -> float:
        """Within the range, on the step grid (no 0.30000000000000004)."""
        n = round((min(max(value, self.minimum), self.maximum) - self.minimum) / self.step)
        return round(self.minimum + n * self.step, 6)

    def position(self, value: float) -> int:
        return round((self.clamp(value) - self.minimum) / self.step)

    def value_at(self, position: int) -> float:
        return self.clamp(self.minimum + position * self.step)

    def text(self, value: float) -> str:
        if self.unit == "st":
            return f"{value:+g} st" if value else "0 st"
        if self.unit == "ms":
            return f"{value * 1000:.0f} ms"
        if self.unit == "dB":
            return f"{value:.0f} dB"
        return f"{value:.2f}"


CONTROLS: tuple[Control, ...] = (
    Control("key", "Key", -24, 24, 1, 0, "st", "Pitch shift in semitones: +12 is an octave "
            "up (a male voice to a female model), -12 an octave down."),
    Control("index_rate", "Index rate", 0, 1, 0.05, 0.75, "", "How much of the model's own "
            "timbre is taken from its index (0: none, 1: all); more can blur words. Needs an "
            "index beside the model."),
    Control("protect", "Protect", 0, 0.5, 0.01, 0.33, "", "Protects consonants and breaths "
            "from the index and the pitch: lower protects more, 0.5 turns it off."),
    Control("gate_db", "Noise gate", -90, 0, 1, -50, "dB", "Input quieter than this is "
            "silenced before conversion (background hiss and breaths)."),
    Control("block", "Block", 0.05, 1.0, 0.01, 0.25, "ms", "Audio converted at a time: "
            "larger is easier on the computer, smaller has less delay."),
    Control("crossfade", "Crossfade", 0.01, 0.15, 0.01, 0.05, "ms", "How long consecutive "
            "blocks overlap and fade into each other; adds to the delay."),
)
SWITCHES: tuple[tuple[str, str, bool, str], ...] = (  # name, label, default, tip
    ("monitor", "Monitor", True, "Play the converted voice on the output device (off: the "
     "stream keeps running, silent)."),
    ("bypass", "Bypass", False, "Hear yourself unconverted (the microphone passed through)."),
)
CONTROL_NAMES = tuple(c.name for c in CONTROLS) + tuple(s[0] for s in SWITCHES)


def control(name: str) -> Control | None:
    return next((c for c in CONTROLS if c.name == name), None)


def defaults() -> dict[str, float | bool]:
    values: dict[str, float | bool] = {c.name: c.default for c in CONTROLS}
    values.update({name: default for name, _label, default, _tip in SWITCHES})
    return values


def _num(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None


@dataclass
class LiveControls:
    values: dict[str, float | bool] = field(default_factory=defaults)
    pending: dict[str, float | bool] = field(default_factory=dict)  # not sent yet
    in_flight: dict[str, float | bool] | None = None  # the job.control on its way
    needs_restart: set[str] = field(default_factory=set)
    problem: str = ""  # the last job.control error
    revision: int = 0

    def set(self, name: str, value: float | bool, *, running: bool = False) -> bool:
        """A new value (clamped); True when it changed. While ``running`` it is also
        queued for the next ``job.control``."""
        spec = control(name)
        if spec is not None:
            num = _num(value)
            if num is None:
                return False
            new: float | bool = spec.clamp(num)
        elif name in CONTROL_NAMES:
            new = bool(value)
        else:
            return False
        if self.values.get(name) == new:
            return False
        self.values[name] = new
        if running:
            self.pending[name] = new
        self.revision += 1
        return True

    def take_pending(self) -> dict[str, float | bool] | None:
        """The values to send now, or None (nothing changed, or a request is on its way:
        its answer sends the rest)."""
        if self.in_flight is not None or not self.pending:
            return None
        self.in_flight, self.pending = self.pending, {}
        return dict(self.in_flight)

    def on_result(self, result: dict[str, Any]) -> list[str]:
        """The ``job.control`` answer; returns the names that need a restart."""
        self.in_flight = None
        self.problem = ""
        names = [str(n) for n in result.get("restart_needed") or [] if n in CONTROL_NAMES]
        self.needs_restart.update(names)
        self.revision += 1
        return names

    def on_error(self, message: str) -> None:
        self.in_flight = None
        self.problem = f"The change was not applied: {message}"
        self.revision += 1

    def stream_started(self, sent: dict[str, Any]) -> None:
        """A new stream runs with the values in its start arguments ``sent``: nothing waits
        for a restart; values changed since those were sent go out with the next request."""
        self.in_flight, self.needs_restart, self.problem = None, set(), ""
        self.pending = {k: v for k, v in self.values.items() if sent.get(k) != v}
        self.revision += 1

    def restart_text(self) -> str:
        if not self.needs_restart:
            return ""
        labels = [c.label.lower() for c in CONTROLS if c.name in self.needs_restart]
        labels += [s[1].lower() for s in SWITCHES if s[0] in self.needs_restart]
        return (f"The new {' and '.join(labels)} take{'s' if len(labels) == 1 else ''} effect "
                "when the stream restarts: press Restart to apply.")

    # settings --------------------------------------------------------------------------------
    def load(self, stored: Any) -> None:
        if isinstance(stored, dict):
            for name, value in stored.items():
                if name in CONTROL_NAMES and isinstance(value, int | float | bool):
                    self.set(name, value)

    def to_stored(self) -> dict[str, float | bool]:
        return dict(self.values)


@dataclass(frozen=True)
class LiveModel:
    """One voice model of ``models.list`` (fields as the protocol's Model)."""

    id: str
    name: str
    path: str
    index: str | None = None
    version: str = ""
    sample_rate: int = 0
    f0: bool = True
    source: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LiveModel | None:
        path = d.get("path")
        if not isinstance(path, str) or not path:
            return None
        index = d.get("index")
        rate = d.get("sample_rate")
        return cls(str(d.get("id") or path), str(d.get("name") or path), path,
                   index if isinstance(index, str) and index else None,
                   str(d.get("version") or ""),
                   rate if isinstance(rate, int) and not isinstance(rate, bool) else 0,
                   bool(d.get("f0", True)), str(d.get("source") or ""))

    def label(self) -> str:
        parts = [p for p in (self.version, f"{self.sample_rate // 1000} kHz"
                             if self.sample_rate else "", "pitch" if self.f0 else "no pitch",
                             "index" if self.index else "no index") if p]
        return f"{self.name} ({', '.join(parts)})"

    def tooltip(self) -> str:
        where = {"export": "exported from the project", "imported": "in the models library"}
        lines = [self.path, f"index: {self.index or 'none'}"]
        if self.source in where:
            lines.append(where[self.source])
        return "\n".join(lines)


def models_from_result(result: dict[str, Any]) -> list[LiveModel]:
    models = [LiveModel.from_dict(m) for m in result.get("models") or [] if isinstance(m, dict)]
    return [m for m in models if m is not None]


@dataclass(frozen=True)
class Stored:
    """The Live page's choices as the app settings keep them."""

    model: str = ""  # the model's path
    f0_method: str = DEFAULT_PITCH
    input: Remembered | None = None
    output: Remembered | None = None
    exclusive: bool = False
    controls: dict[str, Any] = field(default_factory=dict)

    def remembered(self, direction: str) -> Remembered | None:
        return self.input if direction == INPUT else self.output


def load_stored(value: Any) -> Stored:
    if not isinstance(value, dict):
        return Stored()
    method = value.get("f0_method")
    model, controls = value.get("model"), value.get("controls")
    return Stored(model if isinstance(model, str) else "",
                  method if method in LIVE_PITCH_METHODS else DEFAULT_PITCH,
                  Remembered.from_stored(value.get(INPUT)),
                  Remembered.from_stored(value.get(OUTPUT)),
                  bool(value.get("exclusive", False)),
                  controls if isinstance(controls, dict) else {})


def to_stored(stored: Stored) -> dict[str, Any]:
    return {"model": stored.model, "f0_method": stored.f0_method,
            INPUT: stored.input.to_stored() if stored.input else None,
            OUTPUT: stored.output.to_stored() if stored.output else None,
            "exclusive": stored.exclusive, "controls": dict(stored.controls)}


@dataclass(frozen=True)
class StartChoice:
    model: LiveModel | None
    f0_method: str
    input: AudioDevice | None
    input_api: HostApi | None
    output: AudioDevice | None
    output_api: HostApi | None
    exclusive: bool = False

    def blocker(self) -> str:
        """Why Start cannot start ("" when it can)."""
        if self.model is None:
            return ("Choose a voice model: export one from the Train page or import one on "
                    "the Convert page.")
        if self.input is None:
            return "Choose an input device (a microphone)."
        if self.output is None:
            return "Choose an output device (speakers, headphones or a virtual cable)."
        return ""


def job_args(choice: StartChoice, controls: LiveControls) -> dict[str, Any]:
    """The ``live`` job's arguments (devices by their current index, host APIs by name)."""
    assert choice.model is not None and choice.input and choice.output
    args: dict[str, Any] = {
        "model": choice.model.path, "index": choice.model.index,
        "f0_method": choice.f0_method,
        "input_device": choice.input.index, "output_device": choice.output.index,
        "input_host_api": choice.input_api.name if choice.input_api else None,
        "output_host_api": choice.output_api.name if choice.output_api else None,
        "exclusive": choice.exclusive and any(a is not None and a.is_wasapi
                                              for a in (choice.input_api, choice.output_api)),
    }
    args.update(controls.values)
    return args
