"""HuBERT tensor names: file names (fairseq, Hugging Face) to our ``HubertNet`` names.

:func:`to_internal_state` renames a :class:`~backend.features.hubert_formats.Checkpoint`'s
tensors, fuses q/k/v into one ``qkv`` projection and folds the positional conv's weight norm;
:func:`file_name_for` goes the other way, for messages that name what a file lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from backend.features.hubert_formats import Checkpoint

# (file name pattern, internal name pattern); {i} is a layer number, {p} a parameter suffix
FAIRSEQ_RULES = [
    ("feature_extractor.conv_layers.{i}.0.{p}", "convs.{i}.{p}"),
    ("feature_extractor.conv_layers.{i}.2.{p}", "conv_norms.{i}.{p}"),  # group norm (layer 0)
    ("feature_extractor.conv_layers.{i}.2.1.{p}", "conv_norms.{i}.{p}"),  # layer-norm mode
    ("layer_norm.{p}", "feat_norm.{p}"),
    ("post_extract_proj.{p}", "feat_proj.{p}"),
    ("encoder.pos_conv.0.{p}", "pos_conv.{p}"),
    ("encoder.layer_norm.{p}", "enc_norm.{p}"),
    ("encoder.layers.{i}.self_attn.q_proj.{p}", "layers.{i}.q_proj.{p}"),
    ("encoder.layers.{i}.self_attn.k_proj.{p}", "layers.{i}.k_proj.{p}"),
    ("encoder.layers.{i}.self_attn.v_proj.{p}", "layers.{i}.v_proj.{p}"),
    ("encoder.layers.{i}.self_attn.out_proj.{p}", "layers.{i}.out_proj.{p}"),
    ("encoder.layers.{i}.self_attn_layer_norm.{p}", "layers.{i}.attn_norm.{p}"),
    ("encoder.layers.{i}.fc1.{p}", "layers.{i}.fc1.{p}"),
    ("encoder.layers.{i}.fc2.{p}", "layers.{i}.fc2.{p}"),
    ("encoder.layers.{i}.final_layer_norm.{p}", "layers.{i}.ffn_norm.{p}"),
    ("final_proj.{p}", "final_proj.{p}"),
]
FAIRSEQ_IGNORED = ("label_embs_concat", "label_embs", "mask_emb")
HF_RULES = [
    ("feature_extractor.conv_layers.{i}.conv.{p}", "convs.{i}.{p}"),
    ("feature_extractor.conv_layers.{i}.layer_norm.{p}", "conv_norms.{i}.{p}"),
    ("feature_projection.layer_norm.{p}", "feat_norm.{p}"),
    ("feature_projection.projection.{p}", "feat_proj.{p}"),
    ("encoder.pos_conv_embed.conv.{p}", "pos_conv.{p}"),
    ("encoder.layer_norm.{p}", "enc_norm.{p}"),
    ("encoder.layers.{i}.attention.q_proj.{p}", "layers.{i}.q_proj.{p}"),
    ("encoder.layers.{i}.attention.k_proj.{p}", "layers.{i}.k_proj.{p}"),
    ("encoder.layers.{i}.attention.v_proj.{p}", "layers.{i}.v_proj.{p}"),
    ("encoder.layers.{i}.attention.out_proj.{p}", "layers.{i}.out_proj.{p}"),
    ("encoder.layers.{i}.layer_norm.{p}", "layers.{i}.attn_norm.{p}"),
    ("encoder.layers.{i}.feed_forward.intermediate_dense.{p}", "layers.{i}.fc1.{p}"),
    ("encoder.layers.{i}.feed_forward.output_dense.{p}", "layers.{i}.fc2.{p}"),
    ("encoder.layers.{i}.final_layer_norm.{p}", "layers.{i}.ffn_norm.{p}"),
    ("final_proj.{p}", "final_proj.{p}"),
]
HF_IGNORED = ("masked_spec_embed", "lm_head")
WEIGHT_NORM_NAMES = {"g": ("weight_g", "parametrizations.weight.original0"),
                     "v": ("weight_v", "parametrizations.weight.original1")}


@dataclass
class Mapped:
    state: dict[str, torch.Tensor]
    src: dict[str, str]  # internal name -> file name(s), for messages
    unused: list[str]
    missing: dict[str, list[str]] = field(default_factory=dict)  # internal -> absent file keys


# ----------------------------------------------------------------------------- renaming


def _pattern(template: str) -> re.Pattern[str]:
    rx = re.escape(template).replace(r"\{i\}", r"(?P<i>\d+)")
    rx = rx.replace(r"\{p\}", r"(?P<p>[A-Za-z_][\w.]*)")
    return re.compile(rx)


def rename_tensors(state: dict[str, torch.Tensor], rules: list[tuple[str, str]],
                   ignored: tuple[str, ...]) -> Mapped:
    compiled = [(_pattern(f), t) for f, t in rules]
    out, src, unused = {}, {}, []
    for name, tensor in state.items():
        for rx, target in compiled:
            m = rx.fullmatch(name)
            if m:
                new = target.format(**m.groupdict())
                out[new], src[new] = tensor, name
                break
        else:
            if name.split(".")[0] not in ignored:
                unused.append(name)
    return Mapped(out, src, unused)


def to_internal_state(ckpt: Checkpoint, cfg: Any) -> Mapped:
    """File tensors -> HubertNet names: fuses q/k/v and folds the positional conv weight norm."""
    rules, ignored = ((FAIRSEQ_RULES, FAIRSEQ_IGNORED) if ckpt.kind == "fairseq"
                      else (HF_RULES, HF_IGNORED))
    m = rename_tensors(ckpt.state, rules, ignored)
    for i in range(cfg.layers):
        for p in ("weight", "bias"):
            parts = [f"layers.{i}.{x}_proj.{p}" for x in "qkv"]
            fused = f"layers.{i}.qkv.{p}"
            if all(k in m.state for k in parts):
                names = [m.src.pop(k) for k in parts]
                m.state[fused] = torch.cat([m.state.pop(k) for k in parts])
                m.src[fused] = " + ".join(names)
            elif any(k in m.state for k in parts):  # report exactly which of q/k/v is absent
                absent = [file_name_for(fused, ckpt.kind).replace("{q,k,v}", x)
                          for x, k in zip("qkv", parts, strict=True) if k not in m.state]
                m.missing[fused] = absent
                for k in parts:
                    m.state.pop(k, None)
                    m.src.pop(k, None)
    _fold_weight_norm(m)
    return m


def file_name_for(internal: str, kind: str) -> str:
    """The file key an internal parameter comes from (for 'missing' messages)."""
    rules = FAIRSEQ_RULES if kind == "fairseq" else HF_RULES
    if internal == "pos_conv.weight":
        return file_name_for("pos_conv.weight_g", kind) + " / weight_v"
    fused = re.fullmatch(r"layers\.(\d+)\.qkv\.(.+)", internal)
    if fused:
        q_name = file_name_for(f"layers.{fused[1]}.q_proj.{fused[2]}", kind)
        return q_name.replace("q_proj", "{q,k,v}_proj")
    for file_t, ours_t in rules:
        m = _pattern(ours_t).fullmatch(internal)
        if m:
            return file_t.format(**m.groupdict())
    return internal


def _fold_weight_norm(m: Mapped) -> None:
    g = next((f"pos_conv.{n}" for n in WEIGHT_NORM_NAMES["g"] if f"pos_conv.{n}" in m.state), None)
    v = next((f"pos_conv.{n}" for n in WEIGHT_NORM_NAMES["v"] if f"pos_conv.{n}" in m.state), None)
    if g is None or v is None or "pos_conv.weight" in m.state:
        return
    gt, vt = m.state.pop(g).float(), m.state.pop(v).float()
    # weight norm over dim 2: one norm per kernel tap, over output and input channels
    norm = vt.pow(2).sum(dim=(0, 1), keepdim=True).sqrt()
    if gt.shape != norm.shape:
        m.state[g], m.state[v] = gt, vt  # leave them: the loader reports the shapes
        return
    m.state["pos_conv.weight"] = gt * vt / norm
    m.src["pos_conv.weight"] = f"{m.src.pop(g)} + {m.src.pop(v)}"
