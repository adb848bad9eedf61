"""Tiny random-weight models saved in the real file formats (no weights can be downloaded).

- :func:`save_tiny_fairseq_hubert`: a fairseq HuBERT checkpoint laid out like RVC's
  ``hubert_base.pt`` (``model`` state dict under fairseq names, ``cfg`` pickled as omegaconf
  objects, ``optimizer_history``), built from a tiny transformers ``HubertModel``.
- :func:`save_random_hubert_base`: the same format at full size (benchmarks).
- :func:`save_tiny_rmvpe`: a plain RMVPE state dict as in ``rmvpe.pt`` (full architecture,
  random weights; the RMVPE architecture has no size knob, so it is about 180 MB).
"""

from __future__ import annotations

import contextlib
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import torch

HIDDEN, FINAL = 32, 256


def tiny_hf(layers: int = 12, norm: str = "group", seed: int = 0,
            hidden: int = HIDDEN) -> torch.nn.Module:
    """A tiny transformers HubertModel with every parameter moved away from its init value."""
    import transformers  # test-only dependency: the reference implementation

    cfg = transformers.HubertConfig(
        hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4,
        intermediate_size=2 * hidden, conv_dim=(32,) * 7, conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        conv_stride=(5, 2, 2, 2, 2, 2, 2), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4, feat_extract_norm=norm, do_stable_layer_norm=False)
    torch.manual_seed(seed)
    model = transformers.HubertModel(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


# HF name -> fairseq name (facts from transformers' HuBERT conversion script)
def fairseq_name(hf: str) -> str:
    subs = [
        ("feature_extractor.conv_layers.{}.conv.", "feature_extractor.conv_layers.{}.0."),
        ("feature_extractor.conv_layers.{}.layer_norm.", "feature_extractor.conv_layers.{}.2."),
        ("encoder.layers.{}.attention.", "encoder.layers.{}.self_attn."),
        ("encoder.layers.{}.layer_norm.", "encoder.layers.{}.self_attn_layer_norm."),
        ("encoder.layers.{}.feed_forward.intermediate_dense.", "encoder.layers.{}.fc1."),
        ("encoder.layers.{}.feed_forward.output_dense.", "encoder.layers.{}.fc2."),
    ]
    for i in range(16):
        for a, b in subs:
            if hf.startswith(a.format(i)):
                return b.format(i) + hf[len(a.format(i)):]
    return {
        "feature_projection.layer_norm.weight": "layer_norm.weight",
        "feature_projection.layer_norm.bias": "layer_norm.bias",
        "feature_projection.projection.weight": "post_extract_proj.weight",
        "feature_projection.projection.bias": "post_extract_proj.bias",
        **{f"encoder.pos_conv_embed.conv.{a}": f"encoder.pos_conv.0.{b}" for a, b in (
            ("parametrizations.weight.original0", "weight_g"),
            ("parametrizations.weight.original1", "weight_v"), ("bias", "bias"))},
        "masked_spec_embed": "mask_emb",
    }.get(hf, hf)  # encoder.layer_norm.* keeps its name


# --- fake omegaconf classes: pickled under omegaconf's module names like the real cfg object
class _Node:
    pass


class _Meta:
    pass


_DictConfig = type("DictConfig", (_Node,), {"__module__": "omegaconf.dictconfig"})
_AnyNode = type("AnyNode", (_Node,), {"__module__": "omegaconf.nodes"})
_ContainerMetadata = type("ContainerMetadata", (_Meta,), {"__module__": "omegaconf.base"})


def omega(value: object, parent: object = None) -> object:
    """``value`` (nested dicts) as a tree of objects shaped like omegaconf's DictConfig."""
    if isinstance(value, dict):
        node = _Node.__new__(_DictConfig)
        content = {k: omega(v, node) for k, v in value.items()}
    else:
        node, content = _Node.__new__(_AnyNode), None
    meta = _Meta.__new__(_ContainerMetadata)
    meta.__dict__.update(ref_type=typing.Any, object_type=dict, optional=True, key=None)
    node.__dict__.update(_metadata=meta, _parent=parent, _flags_cache=None)
    node.__dict__.update({"_content": content} if isinstance(value, dict) else {"_val": value})
    return node


@contextlib.contextmanager
def _fake_omegaconf_modules() -> Iterator[None]:
    """Register the fake classes under omegaconf's module names while pickling."""
    names = ["omegaconf"] + [c.__module__ for c in (_DictConfig, _AnyNode, _ContainerMetadata)]
    saved = {n: sys.modules.get(n) for n in names}
    package = types.ModuleType("omegaconf")
    sys.modules["omegaconf"] = package
    try:
        for cls in (_DictConfig, _AnyNode, _ContainerMetadata):
            mod = types.ModuleType(cls.__module__)
            setattr(mod, cls.__name__, cls)
            setattr(package, cls.__module__.split(".")[1], mod)
            sys.modules[cls.__module__] = mod
        yield
    finally:
        for n, old in saved.items():
            if old is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = old


def save_with_fake_omegaconf(obj: object, path: Path) -> None:
    with _fake_omegaconf_modules():
        torch.save(obj, path)
    assert "omegaconf" not in sys.modules  # loading cannot lean on the fake classes


def fairseq_cfg(layers: int, normalize: bool = False, hidden: int = HIDDEN,
                final_dim: int = FINAL) -> dict:
    return {
        "model": {"_name": "hubert", "extractor_mode": "default", "encoder_layers": layers,
                  "encoder_embed_dim": hidden, "encoder_ffn_embed_dim": 2 * hidden,
                  "encoder_attention_heads": 4, "activation_fn": "gelu",
                  "conv_feature_layers": "[(32,10,5)] + [(32,3,2)] * 4 + [(32,2,2)] * 2",
                  "conv_bias": False, "conv_pos": 16, "conv_pos_groups": 4,
                  "layer_norm_first": False, "final_dim": final_dim},
        "task": {"_name": "hubert_pretraining", "normalize": normalize, "sample_rate": 16000},
    }


def fairseq_state(hf: torch.nn.Module, seed: int = 5,
                  final_dim: int = FINAL) -> dict[str, torch.Tensor]:
    """The HF model's tensors under fairseq names, plus a seeded final_proj and label embs."""
    sd = {fairseq_name(k): v.clone() for k, v in hf.state_dict().items()}
    hidden = hf.config.hidden_size
    g = torch.Generator().manual_seed(seed)
    sd["final_proj.weight"] = torch.randn(final_dim, hidden, generator=g) * 0.1
    sd["final_proj.bias"] = torch.randn(final_dim, generator=g) * 0.1
    sd["label_embs_concat"] = torch.randn(504, final_dim, generator=g)
    return sd


def fairseq_checkpoint(hf: torch.nn.Module, seed: int = 5, final_dim: int = FINAL) -> dict:
    layers, hidden = hf.config.num_hidden_layers, hf.config.hidden_size
    return {"model": fairseq_state(hf, seed, final_dim),
            "cfg": omega(fairseq_cfg(layers, hidden=hidden, final_dim=final_dim)),
            "args": None, "optimizer_history": [{"criterion_name": "HubertCriterion"}]}


def save_tiny_fairseq_hubert(path: Path, layers: int = 12, hidden: int = HIDDEN,
                             final_dim: int = FINAL, seed: int = 0) -> Path:
    """Write a tiny ``hubert_base.pt``-format file: v2 features have ``hidden`` dims, v1
    features (layer 9 through final_proj) ``final_dim`` dims."""
    path.parent.mkdir(parents=True, exist_ok=True)
    hf = tiny_hf(layers=layers, seed=seed, hidden=hidden)
    save_with_fake_omegaconf(fairseq_checkpoint(hf, seed + 5, final_dim), path)
    return path


def save_random_hubert_base(path: Path, seed: int = 0) -> Path:
    """Full-size HuBERT base (768 wide, 12 layers, 512-channel convs, final_proj 256) with
    random weights, stored in fp16 like RVC's ``hubert_base.pt``; for speed and memory
    benchmarks (the values do not matter there)."""
    import transformers

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    hf = transformers.HubertModel(transformers.HubertConfig()).eval()  # base-size defaults
    c = hf.config
    cfg = fairseq_cfg(c.num_hidden_layers, hidden=c.hidden_size, final_dim=FINAL)
    cfg["model"].update(encoder_ffn_embed_dim=c.intermediate_size,
                        encoder_attention_heads=c.num_attention_heads,
                        conv_feature_layers="[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2",
                        conv_pos=c.num_conv_pos_embeddings,
                        conv_pos_groups=c.num_conv_pos_embedding_groups)
    state = {k: v.half() for k, v in fairseq_state(hf, seed + 5).items()}
    save_with_fake_omegaconf({"model": state, "cfg": omega(cfg), "args": None,
                              "optimizer_history": [{"criterion_name": "HubertCriterion"}]}, path)
    return path


def save_tiny_rmvpe(path: Path, seed: int = 0) -> Path:
    """Random RMVPE weights in the ``rmvpe.pt`` format (a plain state dict)."""
    from backend.features.rmvpe import RmvpeNet

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    torch.save(RmvpeNet().state_dict(), path)
    return path
