"""HuBERT / ContentVec content encoder in plain torch (the features RVC models are trained on).

RVC conventions (checked against the fairseq and Hugging Face layouts in the tests):

* ``v1``: output of the 9th transformer layer (no extra layer norm: HuBERT base is post-LN), then
  ``final_proj`` (768 -> 256).  Equal to Hugging Face ``hidden_states[9]`` projected.
* ``v2``: output of the last (12th) layer, 768-dim, no projection (HF ``last_hidden_state``).

Both run at 50 frames/s on 16 kHz audio (conv stack hop 320 samples, receptive field 400).

Public API for the extraction job::

    enc = load_encoder(path, device="cpu")          # fairseq .pt or Hugging Face folder/file
    feats = enc.encode(wav16k, version="v2")          # torch.float32 [frames, 768] on enc.device
    n = num_frames(len(wav16k))                       # the frame count encode() returns

This module loads models (and reports files that do not fit); the network lives in
:mod:`backend.features.hubert_net`, the encoder in :mod:`backend.features.hubert_encoder`,
file reading in :mod:`backend.features.hubert_files`. Their public names are re-exported here.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

import torch

from backend.features.hubert_encoder import ContentEncoder
from backend.features.hubert_encoder import default_dtype as default_dtype
from backend.features.hubert_files import (
    EncoderLoadError,
    Mapped,
    checkpoint_to_config_kwargs,
    file_name_for,
    read_checkpoint,
    to_internal_state,
)
from backend.features.hubert_net import STANDARD_KERNELS as STANDARD_KERNELS
from backend.features.hubert_net import STANDARD_STRIDES as STANDARD_STRIDES
from backend.features.hubert_net import Conv0Stats as Conv0Stats
from backend.features.hubert_net import HubertConfig, HubertNet, num_frames

__all__ = [
    "ContentEncoder",
    "EncoderLoadError",
    "HubertConfig",
    "HubertNet",
    "load_encoder",
    "num_frames",
]

log = logging.getLogger(__name__)


def load_encoder(path: Path | str, device: str | torch.device = "cpu", *,
                 v1_layer: int | None = None, normalize: bool | None = None,
                 dtype: torch.dtype | None = None) -> ContentEncoder:
    """Load a HuBERT/ContentVec model from a fairseq ``.pt`` or a Hugging Face folder/file.

    Every file is read by the backend's one safe loader (:mod:`backend.safeload`), whether it
    came from the asset store or from anywhere else: a file holding any other Python object
    than tensors and fairseq's metadata is refused, never unpickled.
    ``v1_layer`` / ``normalize`` override what the file says; ``dtype`` see ContentEncoder.
    Raises :class:`EncoderLoadError` naming the file and what does not fit.
    """
    path = Path(path)
    ckpt = read_checkpoint(path)
    kwargs = checkpoint_to_config_kwargs(ckpt)
    if v1_layer is not None:
        kwargs["v1_layer"] = v1_layer
    if normalize is not None:
        kwargs["normalize_input"] = normalize
    try:
        cfg = HubertConfig(**kwargs)
    except (TypeError, ValueError) as exc:
        raise EncoderLoadError(f"{path}: unsupported HuBERT configuration: {exc}") from exc
    with torch.device("meta"):  # shapes only: the file's tensors become the parameters
        net = HubertNet(cfg)
    kind = ckpt.kind
    mapped = to_internal_state(ckpt, cfg)
    ckpt.state.clear()  # from here on the file's tensors live only in `mapped`
    del ckpt
    dev = torch.device(device)
    _check_and_load(net, mapped, path, kind, dev, default_dtype(dev, dtype))
    del mapped
    gc.collect()
    log.info("loaded %s HuBERT from %s (%d layers, hidden %d)", kind, path, cfg.layers,
             cfg.hidden)
    return ContentEncoder(net, dev, source=path, dtype=dtype)


def _check_and_load(net: HubertNet, mapped: Mapped, path: Path, kind: str,
                    device: torch.device, dtype: torch.dtype) -> None:
    """Strict load with a readable report (file key names, shapes) instead of torch's error.

    ``net`` is on the meta device; each file tensor is converted to ``device``/``dtype`` and
    its original dropped before the next one, so the peak is about one copy of the weights in
    the target dtype (plus the not yet converted rest of the file), never two full copies."""
    expected = net.state_dict()
    missing = [n for k in expected if k not in mapped.state
               for n in mapped.missing.get(k, [file_name_for(k, kind)])]
    unexpected = mapped.unused + [mapped.src.get(k, k) for k in mapped.state if k not in expected]
    wrong = [f"{mapped.src.get(k, k)}: file has {list(t.shape)}, model expects "
             f"{list(expected[k].shape)}"
             for k, t in mapped.state.items() if k in expected and t.shape != expected[k].shape]
    if missing or unexpected or wrong:
        lines = [f"{path} does not fit a {kind} HuBERT model as its own metadata describes it:"]
        for label, names in (("missing", missing), ("unexpected", unexpected)):
            if names:
                more = " ..." if len(names) > 12 else ""
                lines.append(f"  {label} ({len(names)}): " + ", ".join(names[:12]) + more)
        lines.extend(f"  wrong shape: {w}" for w in wrong[:12])
        raise EncoderLoadError("\n".join(lines))
    state = {}
    for k in list(mapped.state):  # pop: the file's copy is freed as soon as it is converted
        state[k] = mapped.state.pop(k).to(device=device, dtype=dtype).contiguous()
    net.load_state_dict(state, strict=True, assign=True)
    meta = [n for n, t in net.state_dict().items() if t.is_meta]
    if meta:  # cannot happen after a strict load; a clear message rather than meta tensors
        raise EncoderLoadError(f"{path}: no weights for {', '.join(meta[:8])}")
