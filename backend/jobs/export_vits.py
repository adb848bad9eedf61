"""The export job for a text-to-speech (VITS) run: our inference file (no discriminator, no
posterior encoder, fp16, with its config, symbols and speakers) or its package, written by
``backend/models/vits/files.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.kernel import JobContext, JobError


def export_vits(params: Any, st: dict[str, Any], ctx: JobContext) -> dict:
    from backend.models.vits import files

    tcfg = train_config(st["task"]["vits"])
    cfg = tcfg.model_config()
    out: Path = params.out
    info = f"{st['epoch']}epoch, {st['step']} steps, {tcfg.size} size"
    ctx.check()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if params.package:
            path = files.write_tts_package(out, params.name, _inference(st, tcfg, info),
                                           _card(params, st, tcfg))
        else:
            path = files.write_tts_model(out, st["task"]["G"], cfg, list(tcfg.symbols),
                                         dict(tcfg.speakers), tcfg.language, info)
    except OSError as exc:
        raise JobError(f"could not write {out}: {exc.strerror or exc}; choose another file "
                       "or folder") from exc
    return {"model": "vits", "path": str(path),
            "package": str(path) if params.package else None, "step": st["step"],
            "epoch": st["epoch"], "language": tcfg.language,
            "speakers": sorted(tcfg.speakers, key=tcfg.speakers.get)}


def train_config(saved: dict[str, Any]) -> Any:
    """The run's ``VitsTrainConfig`` from its checkpoint (``task.vits``)."""
    from backend.train.vits_task import VitsTrainConfig

    return VitsTrainConfig(**{k: v for k, v in saved.items()
                              if k in VitsTrainConfig.__dataclass_fields__})


def _inference(st: dict[str, Any], tcfg: Any, info: str) -> dict[str, Any]:
    from backend.models.vits import files

    return files.inference_file(st["task"]["G"], tcfg.model_config(), list(tcfg.symbols),
                                dict(tcfg.speakers), tcfg.language, info)


def _card(params: Any, st: dict[str, Any], tcfg: Any) -> Any:
    from backend.dataset.project import open_project
    from backend.train import tts_labels as tl
    from backend.train.export import ModelCard

    project = open_project(params.root)
    try:
        used = tl.labelled(project).of_language(tcfg.language)
    except tl.LabelsProblem:
        used = []  # the card says what it can; the model is what matters
    seconds = tl.seconds(used)
    return ModelCard(params.name, "vits", tcfg.sample_rate, False, None, int(st["epoch"]),
                     int(st["step"]), seconds,
                     extra={"model": "vits (text-to-speech)", "size": tcfg.size,
                            "language": tcfg.language, "symbols": len(tcfg.symbols),
                            "speakers": ", ".join(sorted(tcfg.speakers, key=tcfg.speakers.get)),
                            "duration_predictor": "stochastic" if tcfg.use_sdp
                            else "deterministic", "labelled_clips": len(used)})
