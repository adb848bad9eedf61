"""The Labels page's transcription form and the ``transcribe`` job it starts (Qt-free).

``EngineList.from_result`` reads ``transcribe.engines`` (``{engines: [{name, title,
languages (None: any), offline, available, problem, models: [{name, installed, size,
asset}]}], default}``; an engine that is not ``available`` keeps its ``problem``).
``TranscribeSettings`` is what the form holds: engine, model (a model name of the engine,
a model folder, or None for an engine without models), language (None: detected),
device (``auto``, ``cpu``, ``cuda``), redo, cut_long (seconds, or None). ``fit`` makes
the choices valid for the engines the backend has, ``validate`` says in words what the
backend would refuse, ``missing_asset`` names the asset of a model not installed yet,
and ``to_job_args`` builds the job's arguments (``device`` and ``language`` left out
when automatic, ``model`` when the engine has none, ``cut_long`` when off).
The app settings keep the choices under ``labels.transcribe`` (all but ``redo``, which
starts off every time).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import Any

from desktop.components.assets import MissingAsset, format_size
from desktop.components.convert_session import progress_text as audio_progress_text
from desktop.components.job_handle import JobHandle

SETTINGS_KEY = "labels.transcribe"
DEVICES = ("auto", "cpu", "cuda")
DEVICE_LABELS = {"auto": "Automatic", "cpu": "CPU", "cuda": "GPU (CUDA)"}
CUT_LONG_RANGE = (5.0, 3600.0)  # seconds: a source longer than this is cut at words
CUT_LONG_DEFAULT = 30.0
# GPT-SoVITS's languages first (what a .list can say), then other common ones
LANGUAGE_NAMES = {
    "en": "English", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "yue": "Cantonese",
    "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "ru": "Russian", "nl": "Dutch", "pl": "Polish", "tr": "Turkish", "uk": "Ukrainian",
    "sv": "Swedish", "ar": "Arabic", "hi": "Hindi", "vi": "Vietnamese", "id": "Indonesian",
}
DETECT_LABEL = "Detect automatically"


def language_label(code: str | None) -> str:
    if code is None:
        return DETECT_LABEL
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code


def is_folder_path(model: str | None) -> bool:
    """A model given as a folder (an absolute path) rather than a model name."""
    return bool(model) and PurePath(str(model)).is_absolute()


@dataclass(frozen=True)
class ModelChoice:
    name: str
    installed: bool
    size: int | None
    asset: str | None  # the asset that downloads it (None: nothing to download)

    def label(self) -> str:
        if self.installed:
            return f"{self.name} (installed)"
        if self.asset:
            return f"{self.name} — {format_size(self.size)} to download"
        return f"{self.name} (not installed)"


@dataclass(frozen=True)
class EngineInfo:
    name: str
    title: str
    languages: tuple[str, ...] | None  # None: any language, detected or given
    offline: bool
    models: tuple[ModelChoice, ...] = ()
    problem: str | None = None  # why it cannot run here (its package is missing); None: it can

    def model(self, name: str | None) -> ModelChoice | None:
        return next((m for m in self.models if m.name == name), None)

    @property
    def takes_folder(self) -> bool:
        """Whether a model folder can stand for a model (engines with downloadable models)."""
        return any(m.asset for m in self.models)

    def language_choices(self) -> list[str | None]:
        """None (detect) first when the engine takes any language."""
        if self.languages is None:
            return [None, *LANGUAGE_NAMES]
        return list(self.languages)

    def default_model(self) -> str | None:
        """The first installed model, else the first one (None when it has none)."""
        installed = [m for m in self.models if m.installed]
        pick = installed[0] if installed else (self.models[0] if self.models else None)
        return pick.name if pick else None


def _model_choice(raw: Any) -> ModelChoice | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        return None
    size = raw.get("size")
    asset = raw.get("asset")
    return ModelChoice(raw["name"], bool(raw.get("installed")),
                       size if isinstance(size, int) and not isinstance(size, bool) else None,
                       asset if isinstance(asset, str) and asset else None)


def _engine(raw: Any) -> EngineInfo | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        return None
    langs = raw.get("languages")
    languages = tuple(str(x) for x in langs if isinstance(x, str) and x) \
        if isinstance(langs, list) else None
    models = tuple(m for m in map(_model_choice, raw.get("models") or []) if m is not None)
    problem = None
    if raw.get("available", True) is False:
        problem = str(raw.get("problem") or "it cannot run on this backend")
    return EngineInfo(raw["name"], str(raw.get("title") or raw["name"]), languages,
                      bool(raw.get("offline")), models, problem)


@dataclass(frozen=True)
class EngineList:
    engines: tuple[EngineInfo, ...] = ()
    default: str = ""

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> EngineList:
        engines = tuple(e for e in map(_engine, result.get("engines") or []) if e is not None)
        default = result.get("default")
        names = [e.name for e in engines]
        if default not in names:
            default = names[0] if names else ""
        return cls(engines, str(default))

    def engine(self, name: str | None) -> EngineInfo | None:
        return next((e for e in self.engines if e.name == name), None)

    def names(self) -> list[str]:
        return [e.name for e in self.engines]

    def usable(self, preferred: str | None = None) -> EngineInfo | None:
        """``preferred`` when it can run here, else the first engine that can."""
        engine = self.engine(preferred)
        if engine is not None and not engine.problem:
            return engine
        return next((e for e in self.engines if not e.problem), None)


@dataclass(frozen=True)
class TranscribeSettings:
    engine: str = ""
    model: str | None = None
    language: str | None = None
    device: str = "auto"
    redo: bool = False
    cut_long: float | None = None

    def fit(self, engines: EngineList) -> TranscribeSettings:
        """The nearest valid choices for ``engines``: an unknown engine becomes the
        default, an unknown model the engine's first installed one, a language the engine
        cannot do its first one (or detection, when it takes any)."""
        engine = engines.engine(self.engine)
        if engine is None or engine.problem:
            engine = engines.usable(engines.default)
        if engine is None:
            return self
        model = self.model if engine.name == self.engine else None
        if not (engine.model(model) or (engine.takes_folder and is_folder_path(model))):
            model = engine.default_model()
        choices = engine.language_choices()
        language = self.language if self.language in choices else choices[0] \
            if choices else None
        device = self.device if self.device in DEVICES else "auto"
        return replace(self, engine=engine.name, model=model, language=language,
                       device=device)

    def validate(self, engines: EngineList | None, cuda: bool = True) -> list[str]:
        """What the backend would refuse, in words (empty: fine to start)."""
        if engines is None or not engines.engines:
            return ["the backend has not said which transcription engines it has yet"]
        engine = engines.engine(self.engine)
        if engine is None:
            return [f"unknown engine {self.engine!r}; choose one of "
                    + ", ".join(engines.names())]
        if engine.problem:
            return [f"{engine.title} cannot run: {engine.problem}"]
        problems = []
        if engine.models and not engine.model(self.model) and not (
                engine.takes_folder and is_folder_path(self.model)):
            problems.append(f"choose a model for {engine.title}")
        if engine.languages is not None and self.language not in engine.languages:
            problems.append(f"{engine.title} transcribes only "
                            + ", ".join(map(language_label, engine.languages)))
        if self.device not in DEVICES:
            problems.append(f"device must be one of {', '.join(DEVICES)}")
        elif self.device == "cuda" and not cuda:
            problems.append("the backend found no CUDA device; choose Automatic or CPU")
        if self.cut_long is not None:
            lo, hi = CUT_LONG_RANGE
            if not lo <= self.cut_long <= hi:
                problems.append(f"cut recordings longer than {lo:g} to {hi:g} s, "
                                f"not {self.cut_long:g}")
        model = engine.model(self.model)
        if model is not None and not model.installed and not model.asset:
            problems.append(f"the {model.name} model is not installed and has no download")
        return problems

    def missing_asset(self, engines: EngineList | None) -> MissingAsset | None:
        """The asset to download before a start (the chosen model is not installed)."""
        engine = engines.engine(self.engine) if engines else None
        model = engine.model(self.model) if engine else None
        if engine is None or model is None or model.installed or not model.asset:
            return None
        return MissingAsset(
            name=model.asset, size=model.size, title=f"{engine.title} {model.name} model",
            message=f"{model.asset} is not installed",
            download_command=f"python -m backend assets download {model.asset}",
            import_hint=f"python -m backend assets import PATH --as {model.asset}")

    def to_job_args(self, project: str, engines: EngineList | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {"project": project, "engine": self.engine}
        engine = engines.engine(self.engine) if engines else None
        if self.model and (engine is None or engine.models or is_folder_path(self.model)):
            args["model"] = self.model
        if self.language is not None:
            args["language"] = self.language
        if self.device != "auto":
            args["device"] = self.device
        if self.redo:
            args["redo"] = True
        if self.cut_long is not None:
            args["cut_long"] = self.cut_long
        return args

    def to_stored(self) -> dict[str, Any]:
        return {"engine": self.engine, "model": self.model, "language": self.language,
                "device": self.device, "cut_long": self.cut_long}

    @classmethod
    def from_stored(cls, value: Any) -> TranscribeSettings:
        """Remembered choices; a value of the wrong type falls back to the default."""
        if not isinstance(value, dict):
            return cls()

        def text(key: str) -> str | None:
            v = value.get(key)
            return v if isinstance(v, str) and v else None

        cut = value.get("cut_long")
        cut_long = float(cut) if isinstance(cut, int | float) and not isinstance(cut, bool) \
            else None
        device = text("device")
        return cls(engine=text("engine") or "", model=text("model"),
                   language=text("language"),
                   device=device if device is not None and device in DEVICES else "auto",
                   cut_long=cut_long)


@dataclass
class RunText:
    """What the panel says about its job."""

    line: str
    error: bool = False
    details: list[str] = field(default_factory=list)


def progress_text(job: JobHandle) -> str:
    """"transcribing take 1.wav 0:03.2–0:05.8 — 12.0 of 40.0 s of audio, 30 s left"."""
    return audio_progress_text(f"{job.stage} {job.detail}".strip(), job.done, job.total,
                               job.eta_text())


def _count(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def summary_text(result: dict[str, Any]) -> RunText:
    """The result of a finished transcription, with up to 10 failed clips."""
    done, skipped = _count(result.get("transcribed")), _count(result.get("skipped"))
    flagged, cut = _count(result.get("flagged")), _count(result.get("cut_sources"))
    secs = result.get("seconds")
    took = f" in {secs:.1f} s" if isinstance(secs, int | float) else ""
    line = f"Transcribed {done} clip(s){took}; {skipped} skipped (done before, or your text)"
    line += f"; {flagged} flagged for review." if flagged else "."
    if cut:
        line += f" {cut} long recording(s) cut at word boundaries: Prepare applies the cuts."
    failed = [f for f in result.get("failed") or [] if isinstance(f, dict)]
    details = [f"{f.get('id')}: {f.get('message')}" for f in failed[:10]]
    if len(failed) > 10:
        details.append(f"…and {len(failed) - 10} more")
    if failed:
        line += f" {len(failed)} clip(s) failed."
    return RunText(line, error=bool(failed), details=details)


def finished_text(job: JobHandle) -> RunText:
    if job.state == "ok":
        return summary_text(job.result)
    if job.state == "cancelled":
        return RunText("Transcription cancelled; the clips transcribed so far are saved.")
    if job.refused:
        return RunText(f"Could not start the transcription: {job.error_message}", error=True)
    return RunText(f"Transcription failed: {job.error_message}", error=True)
