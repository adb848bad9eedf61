"""Do a voice model file's weights fit the generator its ``config`` describes?

The 18 stored hyperparameters do not name every size: the attention window, the number of
layers per flow and the number of flows (smaller in our ``tiny`` size, possibly other in
other tools' files) are read from the weights' own shapes, and the speaker count from
``emb_g.weight``. The generator is then built on the meta device (no memory, milliseconds)
and its inference keys and shapes are compared with the file's. A file that does not fit
gets a summary naming the keys and the expected and found shapes, never torch's page of
"size mismatch" lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from backend.models.config import CLASS_NAMES, GeneratorConfig
from backend.models.synthesizer import Synthesizer

SHOWN = 4  # keys named per kind of problem in the message
_FLOW = re.compile(r"^flow\.flows\.(\d+)\.pre\.weight$")
_FLOW_LAYER = re.compile(r"^flow\.flows\.0\.enc\.in_layers\.(\d+)\.bias$")
_REL = "enc_p.encoder.attn_layers.0.emb_rel_k"


@dataclass
class Fit:
    cfg: GeneratorConfig
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    shapes: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)  # exp, found

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.shapes)

    @property
    def problems(self) -> int:
        return len(self.missing) + len(self.unexpected) + len(self.shapes)

    def details(self) -> dict[str, Any]:
        return {"missing": self.missing[:50], "unexpected": self.unexpected[:50],
                "shapes": {k: {"expected": e, "found": f}
                           for k, (e, f) in list(self.shapes.items())[:50]}}


def shape_of(value: Any) -> list[int]:
    return list(value.shape) if isinstance(value, torch.Tensor) else []


def from_weights(cfg: GeneratorConfig, weights: dict[str, Any]) -> GeneratorConfig:
    """``cfg`` with the sizes the 18 values do not hold taken from the weights."""
    changes: dict[str, int] = {}
    rel = shape_of(weights.get(_REL))
    if len(rel) == 3 and rel[1] % 2 == 1:
        changes["window_size"] = (rel[1] - 1) // 2
    flows = [int(m.group(1)) for k in weights if (m := _FLOW.match(k))]
    if flows:
        changes["n_flows"] = max(flows) // 2 + 1  # coupling layers sit at even positions
    layers = [int(m.group(1)) for k in weights if (m := _FLOW_LAYER.match(k))]
    if layers:
        changes["flow_layers"] = max(layers) + 1
    speakers = shape_of(weights.get("emb_g.weight"))
    if len(speakers) == 2 and speakers[0] > 0:
        changes["spk_embed_dim"] = speakers[0]
    return replace(cfg, **changes)


def expected_shapes(cfg: GeneratorConfig) -> dict[str, list[int]]:
    """Inference keys (no ``enc_q``) and shapes of the generator ``cfg`` describes."""
    with torch.device("meta"):
        net = Synthesizer(cfg)
    return {k: list(v.shape) for k, v in net.state_dict().items() if not k.startswith("enc_q.")}


def compare(cfg: GeneratorConfig, weights: dict[str, Any]) -> Fit:
    expected = expected_shapes(cfg)
    found = {k: shape_of(v) for k, v in weights.items() if not str(k).startswith("enc_q.")}
    return Fit(cfg,
               missing=[k for k in expected if k not in found],
               unexpected=[str(k) for k in found if k not in expected],
               shapes={k: (expected[k], found[k]) for k in expected
                       if k in found and found[k] != expected[k]})


def best_fit(cfg: GeneratorConfig, weights: dict[str, Any]) -> Fit:
    """The declared config (sizes from the weights); failing that, its tiny size (exports
    of tiny runs written before their config said so). The declared one's report otherwise."""
    declared = compare(from_weights(cfg, weights), weights)
    if declared.ok:
        return declared
    tiny = compare(from_weights(cfg.tiny(), weights), weights)
    return tiny if tiny.ok else declared


def _names(keys: list[str]) -> str:
    more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return ", ".join(keys[:SHOWN]) + more


def _hints(fit: Fit, weights: dict[str, Any]) -> list[str]:
    hints = []
    phone = shape_of(weights.get("enc_p.emb_phone.weight"))
    if len(phone) == 2 and phone[1] != fit.cfg.content_dim:
        other = "v1" if phone[1] == 256 else "v2" if phone[1] == 768 else f"{phone[1]}-wide"
        hints.append(f"its weights read {phone[1]}-dim content features ({other}) although "
                     f"the file says {fit.cfg.version}: its 'version' entry is wrong")
    has_pitch = "enc_p.emb_pitch.weight" in weights
    if has_pitch != fit.cfg.f0:
        said = "with" if fit.cfg.f0 else "without"
        hints.append(f"the file says it was trained {said} pitch but its weights "
                     f"{'have' if has_pitch else 'lack'} the pitch embedding: its 'f0' "
                     "entry is wrong")
    return hints


def mismatch_message(name: str, fit: Fit, weights: dict[str, Any]) -> str:
    cfg = fit.cfg
    model = (f"{CLASS_NAMES[(cfg.version, cfg.f0)]} ({cfg.version}, "
             f"{cfg.sampling_rate // 1000}k, {'with' if cfg.f0 else 'without'} pitch)")
    parts = []
    if fit.shapes:
        shown = [f"{k} (expected {e}, found {f})" for k, (e, f) in fit.shapes.items()]
        parts.append(f"other shapes for {_names(shown)}")
    if fit.missing:
        parts.append(f"missing {_names(fit.missing)}")
    if fit.unexpected:
        parts.append(f"unexpected {_names(fit.unexpected)}")
    hints = _hints(fit, weights)
    advice = ("; ".join(hints) + ". ") if hints else ""
    return (f"{name} looks like an RVC voice model, but {fit.problems} of its weights do not "
            f"fit the {model} model its config describes: {'; '.join(parts)}. {advice}"
            "The file was changed or made by an incompatible tool: export it again or "
            "choose another model.")
