"""Export: the small RVC inference model and a one-file model package.

Inference model (``weights/<name>.pth`` in RVC tools): a torch pickle of
``{"weight": state dict without enc_q.* in fp16, "config": the 18 hyperparameters
(the second stored as 32), "info": text, "sr": "40k", "f0": 1|0, "version": "v2"}``.
Model package: one zip holding that model, the retrieval index and a model card.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from backend.fsutil import atomic_write_bytes
from backend.names import safe_name
from backend.safeload import load_weights

RATE_NAMES = {32000: "32k", 40000: "40k", 48000: "48k"}


@dataclass
class ModelCard:
    name: str
    version: str
    sample_rate: int
    f0: bool
    f0_method: str | None
    epochs: int
    steps: int
    dataset_seconds: float
    encoder: str | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "sample_rate": self.sample_rate,
                "f0": self.f0, "f0_method": self.f0_method, "epochs": self.epochs,
                "steps": self.steps, "dataset_seconds": round(self.dataset_seconds, 1),
                "dataset_minutes": round(self.dataset_seconds / 60, 1), "encoder": self.encoder,
                "notes": self.notes, "exported": time.strftime("%Y-%m-%d %H:%M:%S"),
                **self.extra}

    def markdown(self) -> str:
        d = self.to_dict()
        lines = [f"# {self.name}", "", "| | |", "|---|---|"]
        lines += [f"| {k.replace('_', ' ')} | {v} |" for k, v in d.items() if k != "name"]
        return "\n".join(lines) + "\n"


def inference_checkpoint(g_state: dict[str, torch.Tensor], config: list[Any], *,
                         sample_rate: int, f0: bool, version: str, info: str) -> dict[str, Any]:
    weight = {k: v.detach().to("cpu", torch.float16).clone() if v.is_floating_point()
              else v.detach().cpu().clone()
              for k, v in g_state.items() if not k.startswith("enc_q.")}
    cfg = list(config)
    cfg[1] = 32  # stored as 32 whatever the rate, as other RVC tools write it
    return {"weight": weight, "config": cfg, "info": info, "sr": RATE_NAMES[sample_rate],
            "f0": int(bool(f0)), "version": version}


def _torch_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def write_inference_model(path: Path, ckpt: dict[str, Any]) -> Path:
    return atomic_write_bytes(path, _torch_bytes(ckpt))


def write_package(path: Path, model_name: str, ckpt: dict[str, Any], card: ModelCard,
                  index_path: Path | None) -> Path:
    """One zip: ``<name>.pth`` (``safe_name`` of the model name), the ``.index`` file if
    any, ``model_card.md`` and ``.json``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{safe_name(model_name)}.pth", _torch_bytes(ckpt))
        if index_path is not None:
            zf.write(index_path, index_path.name)
        zf.writestr("model_card.md", card.markdown())
        zf.writestr("model_card.json", json.dumps(card.to_dict(), indent=2, ensure_ascii=False))
    return atomic_write_bytes(path, buf.getvalue())


def read_inference_model(path: Path) -> dict[str, Any]:
    """Load an RVC inference model safely and check its fields."""
    ckpt = load_weights(path)
    missing = [k for k in ("weight", "config", "sr", "f0") if k not in ckpt]
    if missing:
        raise ValueError(f"{Path(path).name} is not an RVC inference model: "
                         f"missing {', '.join(missing)}")
    ckpt.setdefault("version", "v1")  # the oldest files have no version: they are v1
    return ckpt
