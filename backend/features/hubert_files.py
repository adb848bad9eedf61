"""Reading HuBERT checkpoints: fairseq ``.pt`` (RVC's ``hubert_base.pt``) and Hugging Face files.

Turns a file into a :class:`Checkpoint` (tensors under the file's own names plus plain metadata),
derives :class:`backend.features.hubert.HubertConfig` arguments, and renames tensors to the
names of :class:`backend.features.hubert.HubertNet`.

This module derives the configuration from the metadata (and, where that is silent, from the
tensor shapes); format detection and reading live in :mod:`backend.features.hubert_formats`,
the name mapping in :mod:`backend.features.hubert_names`. Both are re-exported here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from backend.features.hubert_formats import FAIRSEQ_MARKERS as FAIRSEQ_MARKERS
from backend.features.hubert_formats import HF_MARKERS as HF_MARKERS
from backend.features.hubert_formats import Checkpoint as Checkpoint
from backend.features.hubert_formats import EncoderLoadError as EncoderLoadError
from backend.features.hubert_formats import read_checkpoint as read_checkpoint
from backend.features.hubert_names import FAIRSEQ_IGNORED as FAIRSEQ_IGNORED
from backend.features.hubert_names import FAIRSEQ_RULES, HF_RULES, WEIGHT_NORM_NAMES, rename_tensors
from backend.features.hubert_names import HF_IGNORED as HF_IGNORED
from backend.features.hubert_names import Mapped as Mapped
from backend.features.hubert_names import file_name_for as file_name_for
from backend.features.hubert_names import to_internal_state as to_internal_state

# ----------------------------------------------------------------------------- config


def _literal_layers(spec: str) -> list[tuple[int, int, int]]:
    """Evaluate fairseq's conv_feature_layers string ('[(512,10,5)] + [(512,3,2)] * 4 ...')."""
    import ast

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.List | ast.Tuple):
            items = [ev(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mult):
            a, b = ev(node.left), ev(node.right)
            return a + b if isinstance(node.op, ast.Add) else a * b
        raise ValueError(f"unsupported syntax in conv_feature_layers: {spec!r}")

    layers = ev(ast.parse(spec, mode="eval").body)
    return [(int(d), int(k), int(s)) for d, k, s in layers]


def _infer_from_state(state: dict[str, torch.Tensor], rules: list[tuple[str, str]]
                      ) -> dict[str, Any]:
    """Sizes that can be read off the tensor shapes (used when metadata is absent)."""
    m = rename_tensors(state, rules, ()).state
    kw: dict[str, Any] = {}
    convs = sorted(int(k.split(".")[1]) for k in m if re.fullmatch(r"convs\.\d+\.weight", k))
    if convs:
        kw["conv_dims"] = tuple(m[f"convs.{i}.weight"].shape[0] for i in convs)
        kw["conv_kernels"] = tuple(m[f"convs.{i}.weight"].shape[2] for i in convs)
        kw["conv_bias"] = "convs.0.bias" in m
        kw["extractor_mode"] = "layer" if "conv_norms.1.weight" in m else "group"
    if "feat_proj.weight" in m:
        kw["hidden"] = m["feat_proj.weight"].shape[0]
        kw["heads"] = max(1, kw["hidden"] // 64)
    layers = {int(k.split(".")[1]) for k in m if k.startswith("layers.")}
    if layers:
        kw["layers"] = max(layers) + 1
    if "layers.0.fc1.weight" in m:
        kw["ffn"] = m["layers.0.fc1.weight"].shape[0]
    v = next((m[f"pos_conv.{n}"] for n in WEIGHT_NORM_NAMES["v"] + ("weight",)
              if f"pos_conv.{n}" in m), None)
    if v is not None:
        kw["pos_kernel"], kw["pos_groups"] = v.shape[2], max(1, v.shape[0] // v.shape[1])
    kw["final_dim"] = m["final_proj.weight"].shape[0] if "final_proj.weight" in m else None
    return kw


def _fairseq_kwargs(ckpt: Checkpoint) -> dict[str, Any]:
    meta = ckpt.meta
    if isinstance(meta.get("cfg"), dict):
        model = meta["cfg"].get("model") or {}
        task = meta["cfg"].get("task") or {}
    elif isinstance(meta.get("args"), dict):
        model = task = meta["args"]
    else:
        model = task = {}
    kw = _infer_from_state(ckpt.state, FAIRSEQ_RULES)
    simple = {"encoder_embed_dim": "hidden", "encoder_layers": "layers", "conv_bias": "conv_bias",
              "encoder_attention_heads": "heads", "encoder_ffn_embed_dim": "ffn",
              "conv_pos": "pos_kernel", "conv_pos_groups": "pos_groups"}
    kw.update({ours: model[theirs] for theirs, ours in simple.items() if theirs in model})
    if isinstance(model.get("conv_feature_layers"), str):
        layers = _literal_layers(model["conv_feature_layers"])
        kw["conv_dims"] = tuple(d for d, _, _ in layers)
        kw["conv_kernels"] = tuple(k for _, k, _ in layers)
        kw["conv_strides"] = tuple(s for _, _, s in layers)
    if "extractor_mode" in model:
        kw["extractor_mode"] = {"default": "group", "layer_norm": "layer"}.get(
            model["extractor_mode"], model["extractor_mode"])
    _require(ckpt.path, not model.get("layer_norm_first", False),
             "layer_norm_first=True (pre-LN, HuBERT large style) is not supported")
    _require(ckpt.path, model.get("activation_fn", "gelu") == "gelu",
             f"activation_fn={model.get('activation_fn')!r} is not supported (only gelu)")
    kw["normalize_input"] = bool(task.get("normalize", False))
    kw["normalize_eps"] = 1e-5
    return kw


def _hf_kwargs(ckpt: Checkpoint) -> dict[str, Any]:
    c = ckpt.meta
    kw = _infer_from_state(ckpt.state, HF_RULES)
    simple = {"hidden_size": "hidden", "num_hidden_layers": "layers", "conv_bias": "conv_bias",
              "num_attention_heads": "heads", "intermediate_size": "ffn",
              "num_conv_pos_embeddings": "pos_kernel", "layer_norm_eps": "layer_norm_eps",
              "num_conv_pos_embedding_groups": "pos_groups", "feat_extract_norm": "extractor_mode"}
    kw.update({ours: c[theirs] for theirs, ours in simple.items() if theirs in c})
    for theirs, ours in (("conv_dim", "conv_dims"), ("conv_kernel", "conv_kernels"),
                         ("conv_stride", "conv_strides")):
        if theirs in c:
            kw[ours] = tuple(int(x) for x in c[theirs])
    _require(ckpt.path, not c.get("do_stable_layer_norm", False),
             "do_stable_layer_norm=true (pre-LN, HuBERT large style) is not supported")
    _require(ckpt.path, not c.get("conv_pos_batch_norm", False),
             "conv_pos_batch_norm=true is not supported")
    _require(ckpt.path, c.get("feat_proj_layer_norm", True),
             "feat_proj_layer_norm=false is not supported")
    for key in ("hidden_act", "feat_extract_activation"):
        _require(ckpt.path, c.get(key, "gelu") == "gelu", f"{key}={c.get(key)!r} is not supported")
    pre = c.get("_preprocessor") or {}
    kw["normalize_input"] = bool(pre.get("do_normalize", False))
    kw["normalize_eps"] = 1e-7
    return kw


def _require(path: Path, ok: bool, what: str) -> None:
    if not ok:
        raise EncoderLoadError(f"{path}: {what}")


def checkpoint_to_config_kwargs(ckpt: Checkpoint) -> dict[str, Any]:
    return _fairseq_kwargs(ckpt) if ckpt.kind == "fairseq" else _hf_kwargs(ckpt)
