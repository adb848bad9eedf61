"""The Train page's settings form (Qt-free): values, validation, and the ``train`` job args.

The form is prefilled from the backend's ``train.suggest`` result
(``TrainSuggestion.from_result``); ``TrainSettings.validate`` returns one message
per field so the page can show each next to its field; ``to_job_args`` builds the
``train`` job's arguments. Text fields (learning rate, pretrained paths) are kept
as the user typed them and parsed here, so typing mistakes get a clear message.
The model kind (``model``: voice conversion or text-to-speech, desktop/components/
train_kind.py) picks the suggestion and the runs; language and duration predictor are
sent for text-to-speech only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.components.train_kind import (
    AUTO_LANGUAGE,
    DURATIONS,
    MODEL_KINDS,
    RVC,
    VITS,
    kind_label,
    kind_of,
    language_name,
    language_problem,
    minutes_text,
    new_run_name,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from desktop.components.train_runs import TrainRun

SIZES = ("tiny", "standard")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
MAX_EPOCHS = 100_000
MAX_BATCH = 1024


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return int(value)


def parse_learning_rate(text: str) -> float | None:
    """``"1e-4"``, ``"0.0001"`` → the number; anything else → None."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def format_learning_rate(value: float) -> str:
    return f"{value:.6g}"


@dataclass
class TrainSettings:
    epochs: int = 200
    batch_size: int = 8
    learning_rate: str = "1e-4"  # as typed; parsed by validate/to_job_args
    save_every: int = 10
    keep_last: int = 3           # 0 keeps every checkpoint
    size: str = "standard"
    device: str = "auto"
    precision: str = "auto"
    pretrained_g: str = ""       # "" = none (train from scratch)
    pretrained_d: str = ""
    run: str = "main"
    tensorboard: bool = False    # also write TensorBoard event files (an optional extra)
    model: str = RVC             # rvc | vits
    language: str = AUTO_LANGUAGE  # vits: "" = the most common language of the labels
    duration: str = DURATIONS[0]   # vits: stochastic | deterministic duration predictor

    def validate(self, cuda_available: bool = True) -> dict[str, str]:
        """Field name → what is wrong with it (empty when the settings can be used)."""
        problems: dict[str, str] = {}
        if not 1 <= self.epochs <= MAX_EPOCHS:
            problems["epochs"] = f"epochs must be between 1 and {MAX_EPOCHS}"
        if not 1 <= self.batch_size <= MAX_BATCH:
            problems["batch_size"] = f"batch size must be between 1 and {MAX_BATCH}"
        lr = parse_learning_rate(self.learning_rate)
        if lr is None:
            problems["learning_rate"] = (f"learning rate '{self.learning_rate}' is not a number "
                                         "(write it like 1e-4 or 0.0001)")
        elif not 0 < lr <= 1:
            problems["learning_rate"] = "learning rate must be above 0 and at most 1 (e.g. 1e-4)"
        if not 1 <= self.save_every <= max(1, self.epochs):
            problems["save_every"] = ("save every must be between 1 and the number of epochs "
                                      f"({self.epochs})")
        if not 0 <= self.keep_last <= 1000:
            problems["keep_last"] = "keep last must be between 0 (keep all) and 1000"
        if self.size not in SIZES:
            problems["size"] = f"model size must be one of {', '.join(SIZES)}"
        if self.device not in DEVICES:
            problems["device"] = f"device must be one of {', '.join(DEVICES)}"
        elif self.device == "cuda" and not cuda_available:
            problems["device"] = "the backend found no CUDA GPU: choose auto or cpu"
        if self.precision not in PRECISIONS:
            problems["precision"] = f"precision must be one of {', '.join(PRECISIONS)}"
        for name, label in (("pretrained_g", "pretrained G"), ("pretrained_d", "pretrained D")):
            problem = _file_problem(getattr(self, name), label)
            if problem:
                problems[name] = problem
        if not self.run.strip() or any(c in self.run for c in "/\\"):
            problems["run"] = "the run name must be a plain folder name (no slashes)"
        problems.update(self._kind_problems())
        return problems

    def _kind_problems(self) -> dict[str, str]:
        if self.model not in MODEL_KINDS:
            return {"model": "the model kind must be voice conversion (rvc) or "
                             "text-to-speech (vits)"}
        if self.model != VITS:
            return {}
        problems = {}
        if language_problem(self.language):
            problems["language"] = language_problem(self.language)
        if self.duration not in DURATIONS:
            problems["duration"] = f"the duration predictor must be one of {', '.join(DURATIONS)}"
        return problems

    def to_job_args(self, project: str) -> dict[str, Any]:
        """The ``train`` job's arguments (call ``validate`` first)."""
        lr = parse_learning_rate(self.learning_rate)
        return {"project": project, "run": self.run.strip(), "size": self.size,
                "epochs": self.epochs, "batch_size": self.batch_size,
                "learning_rate": lr, "save_every": self.save_every,
                "keep_last": self.keep_last,
                "pretrained_g": self.pretrained_g.strip() or None,
                "pretrained_d": self.pretrained_d.strip() or None,
                "device": self.device, "precision": self.precision,
                "tensorboard": self.tensorboard, "model": self.model,
                **({"language": self.language or None, "duration": self.duration}
                   if self.model == VITS else {})}


def _choice(value: Any, choices: tuple[str, ...], default: str) -> str:
    if isinstance(value, str) and value.startswith("cuda") and "cuda" in choices:
        return "cuda"  # "cuda:0" in run.json: the form's GPU choice
    return value if value in choices else default


def settings_from_run(name: str, config: dict[str, Any], base: TrainSettings) -> TrainSettings:
    """A run's own settings (its ``run.json``, from ``train.runs``) over ``base`` (the
    suggestion), so Start resumes the run as it was trained; keys the run does not
    record keep the base's value."""
    cfg = dict(config)
    if isinstance(cfg.get("settings"), dict):
        cfg.update(cfg["settings"])
    lr = cfg.get("learning_rate")
    return TrainSettings(
        epochs=_int(cfg.get("epochs"), base.epochs),
        batch_size=_int(cfg.get("batch_size"), base.batch_size),
        learning_rate=(format_learning_rate(lr) if isinstance(lr, (int, float))
                       and not isinstance(lr, bool) else base.learning_rate),
        save_every=_int(cfg.get("save_every"), base.save_every),
        keep_last=_int(cfg.get("keep_last"), base.keep_last),
        size=_choice(cfg.get("size"), SIZES, base.size),
        device=_choice(cfg.get("device"), DEVICES, base.device),
        precision=_choice(cfg.get("precision"), PRECISIONS, base.precision),
        pretrained_g=_run_path(cfg, "pretrained_g", base.pretrained_g),
        pretrained_d=_run_path(cfg, "pretrained_d", base.pretrained_d),
        run=name or base.run,
        tensorboard=cfg["tensorboard"] if isinstance(cfg.get("tensorboard"), bool)
        else base.tensorboard,
        model=kind_of(cfg.get("model"), RVC),  # a run from before TTS: voice conversion
        language=cfg["language"] if isinstance(cfg.get("language"), str) else base.language,
        duration=_choice(cfg.get("duration"), DURATIONS, base.duration))


def form_settings(suggestion: TrainSuggestion | None, run: TrainRun | None,
                  kind: str = RVC, runs: Sequence[TrainRun] = ()) -> TrainSettings:
    """What the Train form shows for ``kind``: the suggestion, under the run's own
    settings when the run (the latest of that kind) resumes from a checkpoint; a new run
    gets a folder no run of the other kind uses."""
    base = suggestion.settings if suggestion is not None else TrainSettings()
    base = replace(base, model=kind)
    if run is None or not run.resumable:
        return replace(base, run=new_run_name(kind, runs))
    return settings_from_run(run.name, run.config, base)


def _run_path(cfg: dict[str, Any], key: str, default: str) -> str:
    if key not in cfg:
        return default
    value = cfg[key]
    return value if isinstance(value, str) else ""  # null: the run started from scratch


def _file_problem(text: str, label: str) -> str:
    path = text.strip()
    if not path:
        return ""
    if not Path(path).is_file():
        return f"{label}: there is no file at {path} (pick the .pth file, or clear the field)"
    return ""


@dataclass
class TrainSuggestion:
    """``train.suggest``'s result: whether training can start, and suggested settings."""

    ready: bool = False
    problems: list[str] = field(default_factory=list)
    text: str = ""
    mode: str = ""
    version: str = ""
    sample_rate: int | None = None
    f0: bool = True
    dataset_seconds: float = 0.0
    settings: TrainSettings = field(default_factory=TrainSettings)
    # the recommended pretrained bases, by part ("g", "d"): file name, catalogue asset,
    # installed path (None when missing)
    base_files: dict[str, str] = field(default_factory=dict)
    base_assets: dict[str, str] = field(default_factory=dict)
    bases: dict[str, str | None] = field(default_factory=dict)
    # text-to-speech: the labelled audio the job trains on, its languages and speakers
    model: str = RVC
    labelled_seconds: float = 0.0
    labelled_rows: int = 0
    language: str = ""  # the language the job picks by default ("" when not said)
    languages: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    enough_data: bool | None = None  # text-to-speech: False when the labels are too few

    def missing_bases(self) -> dict[str, str]:
        """Part -> asset name of each recommended base that is not installed."""
        return {part: asset for part, asset in self.base_assets.items()
                if asset and part in self.base_files and not self.bases.get(part)}

    def bases_text(self) -> str:
        """What the page says when the recommended bases are missing ("" when none is)."""
        missing = self.missing_bases()
        if not missing:
            return ""
        files = " and ".join(self.base_files[p] for p in ("g", "d") if p in missing)
        return (f"The recommendation is to fine-tune the pretrained bases, but {files} "
                f"{'is' if len(missing) == 1 else 'are'} not installed. Without them training "
                "starts from scratch, which needs far more audio and time.")

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> TrainSuggestion:
        sug = _dict(result.get("suggestion"))
        bases = _dict(result.get("bases"))
        problems = result.get("problems")
        base = TrainSettings()
        lr = sug.get("learning_rate")
        settings = TrainSettings(
            epochs=_int(sug.get("epochs"), base.epochs),
            batch_size=_int(sug.get("batch_size"), base.batch_size),
            learning_rate=(format_learning_rate(lr) if isinstance(lr, (int, float))
                           and not isinstance(lr, bool) else base.learning_rate),
            save_every=_int(sug.get("save_every"), base.save_every),
            pretrained_g=_path_text(bases.get("g"), sug.get("base_g")),
            pretrained_d=_path_text(bases.get("d"), sug.get("base_d")),
            model=kind_of(result.get("model")),
            size=_str_in(sug.get("size"), ("tiny", "standard"), base.size),
            duration=_str_in(sug.get("duration"), DURATIONS, base.duration),
        )
        seconds = result.get("dataset_seconds")
        rate = result.get("sample_rate")
        assets = _dict(result.get("base_assets"))
        return cls(**_tts_fields(result), base_files={p: str(sug[f"base_{p}"]) for p in ("g", "d")
                               if isinstance(sug.get(f"base_{p}"), str) and sug[f"base_{p}"]},
                   base_assets={p: str(a) for p, a in assets.items() if isinstance(a, str)},
                   bases={p: b if isinstance(b, str) and b else None for p, b in bases.items()},
                   ready=bool(result.get("ready")),
                   problems=[str(p) for p in problems] if isinstance(problems, list) else [],
                   text=str(sug.get("text") or ""), mode=str(sug.get("mode") or ""),
                   version=str(result.get("version") or ""),
                   sample_rate=rate if isinstance(rate, int) else None,
                   f0=bool(result.get("f0", True)),
                   dataset_seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0,
                   settings=settings)

    def summary(self) -> str:
        if self.model == VITS:
            return self._tts_summary()
        parts = [p for p in (self.version, f"{self.sample_rate / 1000:g} kHz"
                             if self.sample_rate else "",
                             "with pitch" if self.f0 else "no pitch",
                             f"{self.dataset_seconds / 60:.1f} min of audio",
                             self.mode) if p]
        return " · ".join(parts)


    def _tts_summary(self) -> str:
        rows = f" in {self.labelled_rows} rows" if self.labelled_rows else ""
        speakers = len(self.speakers)
        parts = [kind_label(VITS), f"{minutes_text(self.labelled_seconds)} of labelled audio"
                 f"{rows}", language_name(self.language) if self.language else "",
                 f"{speakers} speakers" if speakers > 1 else "", self.mode]
        return " · ".join(p for p in parts if p)


def _tts_fields(result: dict[str, Any]) -> dict[str, Any]:
    """The text-to-speech part of a ``train.suggest`` answer (absent for voice conversion)."""
    seconds, rows = result.get("labelled_seconds"), result.get("labelled_rows")
    language = result.get("language")
    languages, speakers = result.get("languages"), result.get("speakers")
    if isinstance(languages, dict):  # {code: rows}: the most common first
        counts: dict[str, Any] = languages
        languages = sorted(counts, key=lambda k: -_num0(counts[k]))
    enough = _dict(result.get("recommendation")).get("enough_data")
    return {"model": kind_of(result.get("model")),
            "enough_data": enough if isinstance(enough, bool) else None,
            "labelled_seconds": _num0(seconds), "labelled_rows": int(_num0(rows)),
            "language": language if isinstance(language, str) else "",
            "languages": [str(x) for x in languages] if isinstance(languages, list) else [],
            "speakers": [str(x) for x in (speakers if isinstance(speakers, (list, dict))
                                          else [])]}


def _num0(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else 0.0


def _str_in(value: Any, choices: tuple[str, ...], default: str) -> str:
    return value if value in choices else default


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _path_text(*candidates: Any) -> str:
    """The first candidate that is an absolute path (bases are installed file paths)."""
    for c in candidates:
        if isinstance(c, str) and c and Path(c).is_absolute():
            return c
    return ""


def start_blocker(suggestion: TrainSuggestion | None, problems: dict[str, str],
                  has_project: bool, running: bool) -> str:
    """Why Start is disabled ("" when it may be pressed)."""
    if not has_project:
        return "Open a project first."
    if running:
        return "Training is running."
    if suggestion is None:
        return "Asking the backend whether the project is ready to train…"
    if not suggestion.ready:
        listed = "; ".join(suggestion.problems) or "the backend says it is not ready"
        return f"Not ready to train: {listed}"
    if problems:
        return "Fix the settings: " + "; ".join(problems.values())
    return ""
