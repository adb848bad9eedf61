"""Everything a conversion job needs, loaded once: the voice model, its index, the content
encoder and the pitch extractor. The one place the ``convert`` and ``live`` jobs get them.

``resolve`` runs in a job's ``prepare`` (fast checks, the messages that name the fix:
a file that is no voice model, a missing asset); ``load`` in its ``run``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.convert.pipeline import check_encoder
from backend.kernel import BadArgs


@dataclass(frozen=True)
class PartPaths:
    model: Path
    index: Path | None  # given by the user; None: the model's own when found
    encoder: Path
    rmvpe: Path | None  # only when the model uses pitch and the method is rmvpe
    f0: bool


@dataclass
class Parts:
    model: Any  # VoiceModel
    encoder: Any  # ContentEncoder
    f0: Any | None  # F0Extractor, None for a model without pitch
    retrieval: Any | None  # Retrieval, None without an index (or at index rate 0)


def resolve(model: str, *, index: str | Path | None, encoder: str | None,
            f0_method: str) -> PartPaths:
    """Check the files and find the assets (``MissingAsset`` says how to install one)."""
    from backend.convert.voice_model import inspect_voice_model
    from backend.jobs.extract import DEFAULT_ENCODER, _resolve_encoder

    index_path = Path(index).expanduser() if index else None
    info = inspect_voice_model(model, index=index_path)  # names what a wrong file is
    rmvpe = None
    if info.f0 and f0_method == "rmvpe":
        from backend.assets.store import require_asset

        rmvpe = require_asset("rmvpe")
    encoder_path, _ = _resolve_encoder(str(encoder or DEFAULT_ENCODER))
    return PartPaths(Path(info.path), index_path, Path(encoder_path), rmvpe, bool(info.f0))


def load(paths: PartPaths, *, device: str, f0_method: str, index_rate: float,
         log: Callable[[str], None] = lambda _m: None) -> Parts:
    from backend.convert.steps import Retrieval
    from backend.convert.voice_model import load_voice_model
    from backend.features.f0 import F0Extractor, RmvpeWeightsError
    from backend.features.hubert import EncoderLoadError, load_encoder

    model = load_voice_model(paths.model, device=device, index=paths.index)
    index = paths.index or model.index_path
    retrieval = None
    if index is not None and index_rate > 0:
        retrieval = Retrieval.open(index, dim=model.content_dim, version=model.version)
        log(f"using the index {index}")
    try:
        encoder = load_encoder(paths.encoder, device)
    except EncoderLoadError as exc:
        raise BadArgs(str(exc)) from exc
    f0 = F0Extractor(device=device, rmvpe_path=paths.rmvpe) if model.f0 else None
    if f0 is not None:
        try:  # a broken pitch model stops the job once, not every file or block
            f0.preload(f0_method)
        except RmvpeWeightsError as exc:
            raise BadArgs(str(exc)) from exc
    check_encoder(encoder, model)
    return Parts(model, encoder, f0, retrieval)
