"""The Extract page's form and the ``extract`` job arguments it maps to.

Job args: ``{"project", "f0", "encoder", "version", "device", "filter_radius"}``; the
encoder is an asset name ("hubert-base", "contentvec-hf") or the path of a file. The
pitch methods and what they need follow ``backend/features/f0.py`` (``METHODS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.protocol import Hello


@dataclass(frozen=True)
class PitchMethod:
    name: str
    label: str
    description: str  # one line for the form
    needs_asset: str | None = None


PITCH_METHODS: list[PitchMethod] = [
    PitchMethod("harvest", "Harvest", "WORLD's classic estimator: slow, very good on clean "
                "voices; needs no model file."),
    PitchMethod("dio", "DIO", "WORLD's fast estimator: a quick preview with more octave "
                "errors."),
    PitchMethod("pm", "Praat (pm)", "Praat autocorrelation: fastest; can miss breathy or low "
                "notes."),
    PitchMethod("crepe-tiny", "CREPE tiny", "Small neural network: fast and fairly robust."),
    PitchMethod("crepe", "CREPE full", "Full CREPE network: very good, slow on CPU, fast on "
                "GPU."),
    PitchMethod("rmvpe", "RMVPE", "Best for RVC: robust to noise and breath; needs the rmvpe "
                "model file (181 MB).", needs_asset="rmvpe"),
]
METHOD_NAMES = [m.name for m in PITCH_METHODS]

OTHER_ENCODER = "__other__"
ENCODERS: list[tuple[str, str]] = [
    ("hubert-base", "HuBERT base (hubert_base.pt, as RVC uses)"),
    ("contentvec-hf", "ContentVec (Hugging Face format)"),
]
# assets an encoder needs: the Hugging Face weights need their config.json beside them
ENCODER_ASSETS = {"hubert-base": ["hubert-base"],
                  "contentvec-hf": ["contentvec-hf", "contentvec-hf-config"]}
VERSIONS = ("v1", "v2")
DEVICES = ("auto", "cpu", "cuda")
FILTER_RADIUS_RANGE = (0, 15)  # as the extract job accepts


def method(name: str) -> PitchMethod | None:
    return next((m for m in PITCH_METHODS if m.name == name), None)


def cuda_available(hello: Hello | None) -> bool:
    """Whether the backend's hello lists a CUDA device."""
    devices = hello.devices if hello is not None else []
    return any(isinstance(d, dict) and d.get("kind") == "cuda" for d in devices)


def assets_needed(f0: str, encoder: str) -> list[str]:
    """Catalogue assets the method and encoder need (a file-path encoder needs none)."""
    names: list[str] = []
    m = method(f0)
    if m is not None and m.needs_asset:
        names.append(m.needs_asset)
    names.extend(ENCODER_ASSETS.get(encoder, []))
    return names


@dataclass
class ExtractSettings:
    f0: str = "harvest"
    encoder: str = "hubert-base"   # asset name or a file path
    version: str = "v2"
    device: str = "auto"
    filter_radius: int = 3

    @classmethod
    def defaults(cls, project: dict[str, Any] | None, installed: set[str] | None = None,
                 ) -> ExtractSettings:
        """rmvpe if it is installed (else harvest); the version the project says (else v2)."""
        version = (project or {}).get("version")
        return cls(f0="rmvpe" if installed and "rmvpe" in installed else "harvest",
                   version=version if version in VERSIONS else "v2")

    @classmethod
    def stored(cls, project: dict[str, Any] | None) -> ExtractSettings | None:
        """The settings kept in ``project.json`` under ``extract`` (the last extraction
        started), over the defaults; None when the project has none."""
        saved = (project or {}).get("extract")
        if not isinstance(saved, dict) or not saved:
            return None
        base = cls.defaults(project)
        radius = saved.get("filter_radius")
        return cls(
            f0=saved["f0"] if saved.get("f0") in METHOD_NAMES else base.f0,
            encoder=saved["encoder"] if isinstance(saved.get("encoder"), str)
            and saved["encoder"] else base.encoder,
            version=saved["version"] if saved.get("version") in VERSIONS else base.version,
            device=saved["device"] if saved.get("device") in DEVICES else base.device,
            filter_radius=radius if isinstance(radius, int) and not isinstance(radius, bool)
            and FILTER_RADIUS_RANGE[0] <= radius <= FILTER_RADIUS_RANGE[1]
            else base.filter_radius)

    def to_stored(self) -> dict[str, Any]:
        """What ``project.extract_settings`` keeps."""
        return {"f0": self.f0, "encoder": self.encoder, "version": self.version,
                "device": self.device, "filter_radius": self.filter_radius}

    def assets_needed(self) -> list[str]:
        return assets_needed(self.f0, self.encoder)

    def validate(self, cuda: bool = True) -> list[str]:
        problems = []
        if self.f0 not in METHOD_NAMES:
            problems.append(f"pitch method must be one of {', '.join(METHOD_NAMES)}")
        if not self.encoder or self.encoder == OTHER_ENCODER:
            problems.append("choose a content encoder file (Other file…)")
        if self.version not in VERSIONS:
            problems.append("version must be v1 or v2")
        if self.device not in DEVICES:
            problems.append(f"device must be one of {', '.join(DEVICES)}")
        elif self.device == "cuda" and not cuda:
            problems.append("the backend found no CUDA device; choose auto or cpu")
        lo, hi = FILTER_RADIUS_RANGE
        if not lo <= self.filter_radius <= hi:
            problems.append(f"filter radius must be between {lo} and {hi}")
        return problems

    def to_job_args(self, project: str) -> dict[str, Any]:
        return {"project": project, "f0": self.f0, "encoder": self.encoder,
                "version": self.version, "device": self.device,
                "filter_radius": self.filter_radius}


def progress_text(stage: str, done: float, total: float, eta_text: str = "") -> str:
    count = f" {int(done)} / {int(total)}" if total > 0 else ""
    return f"{stage or 'working'}{count}" + (f" — {eta_text} left" if eta_text else "")


def summary_text(result: dict[str, Any]) -> str:
    """The result of a finished extraction, for the page."""
    slices, processed = result.get("slices", 0), result.get("processed", 0)
    skipped = result.get("skipped", 0)
    secs = result.get("seconds")
    took = f" in {secs:.1f} s" if isinstance(secs, (int, float)) else ""
    lines = [f"Extracted features for {processed} of {slices} clip(s) ({skipped} already "
             f"up to date){took}."]
    if result.get("features_dir"):
        lines.append(f"Features: {result['features_dir']}")
    errors = [e for e in result.get("errors") or [] if isinstance(e, dict)]
    if errors:
        lines.append(f"{len(errors)} clip(s) failed:")
        lines.extend(f"  {e.get('slice')}: {e.get('message')}" for e in errors[:10])
        if len(errors) > 10:
            lines.append(f"  …and {len(errors) - 10} more")
    return "\n".join(lines)
