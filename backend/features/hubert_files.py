"""Reading HuBERT checkpoints: fairseq ``.pt`` (RVC's ``hubert_base.pt``) and Hugging Face files.

Turns a file into a :class:`Checkpoint` (tensors under the file's own names plus plain metadata),
derives :class:`backend.features.hubert.HubertConfig` arguments, and renames tensors to the
names of :class:`backend.features.hubert.HubertNet`.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from backend.features.hubert_pickle import RefusedGlobal, restricted_pickle_module, to_plain

# sha256 of RVC's hubert_base.pt (the value RVC's own asset check uses).
KNOWN_SHA256 = {
    "f54b40fd2802423a5643779c4861af1e9ee9c1564dc9d32f54f20b5ffba7db96": "hubert_base.pt",
}

FAIRSEQ_MARKERS = ("feature_extractor.conv_layers.0.0.weight", "post_extract_proj.weight")
HF_MARKERS = ("feature_extractor.conv_layers.0.conv.weight", "feature_projection.projection.weight")

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


class EncoderLoadError(ValueError):
    """A HuBERT file could not be read or does not fit; the message names the file."""


@dataclass
class Checkpoint:
    path: Path
    kind: str  # "fairseq" or "hf"
    state: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Mapped:
    state: dict[str, torch.Tensor]
    src: dict[str, str]  # internal name -> file name(s), for messages
    unused: list[str]
    missing: dict[str, list[str]] = field(default_factory=dict)  # internal -> absent file keys


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _torch_load(path: Path, trusted: bool) -> Any:
    """weights_only first; then a restricted unpickler; full unpickle only for trusted files."""
    unreadable = f"{path}: not a readable torch checkpoint"
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        pass  # has non-tensor objects (fairseq metadata) or is not a pickle at all
    except Exception as exc:
        raise EncoderLoadError(f"{unreadable} ({exc})") from exc
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False,
                         pickle_module=restricted_pickle_module())
        return to_plain(obj)
    except RefusedGlobal as exc:
        refused = exc
    except Exception as exc:
        raise EncoderLoadError(f"{unreadable} ({type(exc).__name__}: {exc})") from exc
    if trusted or _sha256(path) in KNOWN_SHA256:
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:
            raise EncoderLoadError(f"{unreadable} ({type(exc).__name__}: {exc})") from exc
    raise EncoderLoadError(
        f"{path}: the file refers to Python code ({refused}) that the safe loaders refuse; "
        "loading it could run code from the file. Import it as trusted only if you trust "
        "where it came from.")


def read_checkpoint(path: Path, trusted: bool = False) -> Checkpoint:
    if not path.exists():
        raise EncoderLoadError(f"{path}: no such file or folder (expected a HuBERT model: "
                               "hubert_base.pt or a Hugging Face folder with config.json)")
    if path.is_dir():
        return _read_hf(path, _hf_weights_in(path))
    if path.suffix == ".safetensors" or path.name.endswith(".safetensors.index.json"):
        return _read_hf(path.parent, path)
    obj = _torch_load(path, trusted)
    return _classify(path, obj)


def _hf_weights_in(folder: Path) -> Path:
    for name in ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    raise EncoderLoadError(f"{folder}: no model.safetensors or pytorch_model.bin in this folder "
                           "(expected a Hugging Face HubertModel folder)")


def _read_hf(folder: Path, weights: Path, state: dict[str, torch.Tensor] | None = None
             ) -> Checkpoint:
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise EncoderLoadError(f"{weights}: Hugging Face weights need a config.json next to them "
                               f"(looked for {cfg_path})")
    try:
        meta = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EncoderLoadError(f"{cfg_path}: cannot read JSON ({exc})") from exc
    pre = folder / "preprocessor_config.json"
    if pre.is_file():
        try:
            meta["_preprocessor"] = json.loads(pre.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise EncoderLoadError(f"{pre}: cannot read JSON ({exc})") from exc
    if state is None:
        state = _load_hf_tensors(weights)
    state = {k.removeprefix("hubert."): v for k, v in state.items()}
    if not any(m in state for m in HF_MARKERS):
        raise EncoderLoadError(f"{weights}: no Hugging Face HuBERT weights found (expected keys "
                               f"such as {HF_MARKERS[0]}); found {_sample(state)}")
    return Checkpoint(weights, "hf", state, meta)


def _load_hf_tensors(weights: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    try:
        if weights.name.endswith(".index.json"):
            index = json.loads(weights.read_text(encoding="utf-8"))
            state: dict[str, torch.Tensor] = {}
            for shard in sorted(set(index["weight_map"].values())):
                state.update(load_file(str(weights.parent / shard)))
            return state
        if weights.suffix == ".safetensors":
            return load_file(str(weights))
    except Exception as exc:
        raise EncoderLoadError(f"{weights}: cannot read safetensors weights ({exc})") from exc
    obj = _torch_load(weights, trusted=False)
    if not isinstance(obj, dict):
        raise EncoderLoadError(f"{weights}: expected a state dict, found {type(obj).__name__}")
    return obj


def _sample(d: dict[str, Any], n: int = 6) -> str:
    keys = list(d)
    return ", ".join(map(str, keys[:n])) + (" ..." if len(keys) > n else "") if keys else "nothing"


def _classify(path: Path, obj: Any) -> Checkpoint:
    if not isinstance(obj, dict):
        raise EncoderLoadError(f"{path}: expected a dict (fairseq checkpoint or state dict), "
                               f"found {type(obj).__name__}")
    if "weight" in obj and "config" in obj:
        raise EncoderLoadError(f"{path}: this is an RVC voice model (it has 'weight' and "
                               "'config' entries), not a HuBERT content encoder; expected "
                               "hubert_base.pt (a fairseq checkpoint with 'model' and 'cfg')")
    sd = obj.get("model", obj)
    if isinstance(sd, dict) and any(m in sd for m in FAIRSEQ_MARKERS):
        meta = {k: obj[k] for k in ("cfg", "args") if obj.get(k) is not None}
        return Checkpoint(path, "fairseq", _tensors(path, sd), meta)
    if isinstance(sd, dict) and any(k.removeprefix("hubert.") in HF_MARKERS for k in sd):
        return _read_hf(path.parent, path, state=_tensors(path, sd))
    where = "its 'model' entry" if sd is not obj else "it"
    found = _sample(sd) if isinstance(sd, dict) else type(sd).__name__
    raise EncoderLoadError(
        f"{path}: not a HuBERT/ContentVec checkpoint: expected fairseq keys such as "
        f"{FAIRSEQ_MARKERS[0]} (or Hugging Face keys such as {HF_MARKERS[0]}), but {where} "
        f"has: {found}")


def _tensors(path: Path, sd: dict[str, Any]) -> dict[str, torch.Tensor]:
    bad = [k for k, v in sd.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise EncoderLoadError(f"{path}: state dict entries that are not tensors: {bad[:8]}")
    return dict(sd)


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
    m = _rename(state, rules, ()).state
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


# ----------------------------------------------------------------------------- renaming


def _pattern(template: str) -> re.Pattern[str]:
    rx = re.escape(template).replace(r"\{i\}", r"(?P<i>\d+)")
    rx = rx.replace(r"\{p\}", r"(?P<p>[A-Za-z_][\w.]*)")
    return re.compile(rx)


def _rename(state: dict[str, torch.Tensor], rules: list[tuple[str, str]],
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
    m = _rename(ckpt.state, rules, ignored)
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
