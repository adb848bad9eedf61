"""What a file that is not a voice model looks like, in a sentence the user can act on.

``describe(path, obj)`` looks at what the safe loader read (``obj``); ``describe_unloadable``
at a file the weights profile refused or could not read: a fairseq encoder (read again with
``load_fairseq``, whose stand-ins run nothing) or a file that is no PyTorch file at all
(recognised by its first bytes). A file that asks for code keeps safeload's ``UnsafeFile``.

Facts used (the key names each tool's files hold):
- RVC / our training checkpoints: ``G_<step>.pth`` / ``D_<step>.pth`` hold ``model`` with
  ``optimizer`` and ``iteration``; ours (``ckpt_<step>.pt``) hold ``task`` with ``G``/``D``.
- RVC pretrained bases (``f0G40k.pth``...): ``model`` only, full state dict with ``enc_q``.
- Discriminators: keys under ``discriminators.``.
- so-vits-svc 4.x: ``enc_p.f0_emb``, ``emb_uv``, a top-level ``pre`` conv over the content
  features, ``f0_decoder`` (4.1); 3.x: ``enc_p_.*``.
- Diff-SVC: a Lightning-style ``state_dict`` with ``model.denoise_fn.*`` / ``model.fs2.*``.
- VITS text-to-speech: ``enc_p.emb.weight`` (symbol embedding) and a duration predictor ``dp.``
  (original ``G_<step>.pth`` under ``model``, our inference file under ``weight``); its
  discriminator has 6 sub-discriminators (periods 2, 3, 5, 7, 11 and the scale one).
- GPT-SoVITS: ``weight`` with ``config`` as a dict; SoVITS keys ``ssl_proj.``, ``quantizer.``,
  ``ref_enc.``; GPT keys ``model.ar_text_embedding.``.
- HuBERT / ContentVec: fairseq names (``feature_extractor.conv_layers.0.0.weight``,
  ``encoder.layers.N.self_attn.*``) with ``cfg``/``args``, or Hugging Face names
  (``feature_extractor.conv_layers.0.conv.weight``, ``encoder.layers.N.attention.*``).
- RMVPE: a plain state dict of ``unet.*``, ``cnn.*``, ``fc.*``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

EXPORT_HOW = ("export it first: on the Train page press Export, or run "
              "'python -m backend export --project \"{project}\"' (it writes "
              "export/<name>.pth in the project), then load that file")
RVC_EXPORT_HOW = ("export a voice model from it first: for a Timbre Studio run on the Train "
                  "page (Export) or with 'python -m backend export --project <project "
                  "folder>'; for another tool's run with that tool (RVC: \"extract small "
                  "model\" in its checkpoint tab), which writes weights/<name>.pth")
SPEAK = ("use it on the Speak page: it reads text aloud, where voice conversion needs an "
         "RVC voice model (.pth)")
VITS_DISCRIMINATORS = 6  # periods 2, 3, 5, 7, 11 and the scale one (RVC v1 has 7, v2 9)
ARCHITECTURE = "it uses another architecture: Timbre Studio converts with RVC voice models (.pth)"
PICK = "choose the .pth of an RVC voice model (weights/<name>.pth)"
ASSET_IMPORT = "install it on the Models & assets page or with 'python -m backend assets import " \
               "\"{path}\" --as {asset}'; a voice model is a separate, small .pth"

_MAGIC = [
    (b"RIFF", "a WAV audio file"), (b"fLaC", "a FLAC audio file"), (b"OggS", "an Ogg audio file"),
    (b"ID3", "an MP3 audio file"),
    *((magic, "a faiss retrieval index") for magic in (b"IwFl", b"IvFl", b"IxFI", b"IxF2")),
    (b"PK\x03\x04", "a zip archive with no voice model (.pth) in it"),
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
]


def _keys(state: Any) -> list[str]:
    return [k for k in state if isinstance(k, str)] if isinstance(state, dict) else []


def _has(keys: list[str], *prefixes: str) -> bool:
    return any(k.startswith(prefixes) for k in keys)


def _sentence(path: Path, what: str, advice: str) -> str:
    advice = advice[:1].upper() + advice[1:]
    return f"{path.name} is not a voice model: it looks like {what}. {advice}."


def describe(path: Path, obj: Any) -> str:
    """The message for a file the weights loader read but that holds no voice model."""
    path = Path(path)
    if not isinstance(obj, dict):
        return _sentence(path, f"a saved {type(obj).__name__}, not a dict of model weights",
                         PICK)
    if isinstance(obj.get("task"), dict) and "G" in obj["task"]:
        project = path.parent.parent.parent
        return _sentence(path, "a Timbre Studio training checkpoint (the whole training "
                         "state, not the voice model)", EXPORT_HOW.format(project=project))
    if isinstance(obj.get("state_dict"), dict):
        return _lightning(path, _keys(obj["state_dict"]))
    if "weight" in obj and isinstance(obj["weight"], dict):
        keys = _keys(obj["weight"])
        return _gpt_sovits(path, keys) or _other_tool(path, obj, keys) or _sentence(
            path, "an RVC voice model without its 'config' entry (the hyperparameters), so "
            "its generator cannot be rebuilt", "export it again with the tool that made it")
    state = obj.get("model") if isinstance(obj.get("model"), dict) else obj
    return _state_dict(path, obj, _keys(state))


def _lightning(path: Path, keys: list[str]) -> str:
    if _has(keys, "model.denoise_fn.", "model.fs2."):
        return _sentence(path, "a Diff-SVC model (a diffusion singing-voice model)", ARCHITECTURE)
    return _sentence(path, "a PyTorch Lightning checkpoint of another tool "
                     f"({len(keys)} weights, such as {', '.join(keys[:2]) or 'none'})",
                     ARCHITECTURE)


def _state_dict(path: Path, top: dict[str, Any], keys: list[str]) -> str:
    for test in (_other_tool, _encoder_or_pitch, _rvc_part):
        found = test(path, top, keys)
        if found:
            return found
    shown = ", ".join(keys[:3]) or "no weights"
    return _sentence(path, f"a PyTorch file that no known voice tool writes ({len(keys)} "
                     f"entries, such as {shown})",
                     PICK)


def _gpt_sovits(path: Path, keys: list[str]) -> str | None:
    """GPT-SoVITS saves ``{"weight", "config" (a dict), "info"}`` like an RVC model."""
    if _has(keys, "ssl_proj.", "quantizer.", "ref_enc."):
        return _sentence(path, "a GPT-SoVITS (SoVITS) model, a text-to-speech voice",
                         ARCHITECTURE)
    if _has(keys, "model.ar_text_embedding.", "model.ar_audio_embedding."):
        return _sentence(path, "a GPT-SoVITS (GPT) model, a text-to-speech voice",
                         ARCHITECTURE)
    return None


def _other_tool(path: Path, top: dict[str, Any], keys: list[str]) -> str | None:
    if _has(keys, "enc_p.f0_emb.", "emb_uv.", "f0_decoder.") or \
            ("pre.weight" in keys and _has(keys, "enc_p.enc_.")):
        return _sentence(path, "a so-vits-svc 4.x model", ARCHITECTURE)
    if _has(keys, "enc_p_."):
        return _sentence(path, "a so-vits-svc 3.x model", ARCHITECTURE)
    if "enc_p.emb.weight" in keys:
        symbols = _rows(top, "enc_p.emb.weight")
        training = " (a training checkpoint: keep its config.json beside it)" \
            if "optimizer" in top or "iteration" in top else ""
        return _sentence(path, f"a VITS text-to-speech model ({symbols} text symbols)"
                         f"{training}", SPEAK)
    return None


def _encoder_or_pitch(path: Path, top: dict[str, Any], keys: list[str]) -> str | None:
    fairseq = _has(keys, "feature_extractor.conv_layers.0.0.", "encoder.layers.0.self_attn.")
    hf = _has(keys, "feature_extractor.conv_layers.0.conv.", "hubert.feature_extractor.",
              "encoder.layers.0.attention.")
    if fairseq or hf:
        kind = "fairseq" if fairseq else "Hugging Face"
        return _sentence(path, f"a HuBERT/ContentVec content encoder ({kind} format)",
                         ASSET_IMPORT.format(path=path, asset="hubert-base" if fairseq
                                             else "contentvec-hf"))
    if _has(keys, "unet.encoder.") and _has(keys, "fc."):
        return _sentence(path, "the RMVPE pitch model (rmvpe.pt)",
                         ASSET_IMPORT.format(path=path, asset="rmvpe"))
    return None


def _rvc_part(path: Path, top: dict[str, Any], keys: list[str]) -> str | None:
    training = "optimizer" in top or "iteration" in top
    if _has(keys, "discriminators."):
        what = "the discriminator of an RVC training run (D_<step>.pth)" if training \
            else "an RVC pretrained discriminator (f0D40k.pth style)"
        if len({k.split(".")[1] for k in keys if k.startswith("discriminators.")}) == \
                VITS_DISCRIMINATORS:
            what = "the discriminator of a VITS text-to-speech training run (D_<step>.pth)"
        return _sentence(path, what, "it only judges audio during training; the voice is in "
                         "the generator, exported as weights/<name>.pth")
    if not _has(keys, "enc_p.emb_phone.", "dec.", "flow."):
        return None
    if training:
        return _sentence(path, "an RVC training checkpoint (G_<step>.pth: generator with "
                         "its optimizer state)", RVC_EXPORT_HOW)
    if _has(keys, "enc_q.") and "config" not in top:
        return _sentence(path, "an RVC pretrained base (f0G40k.pth style: the full generator, "
                         "posterior encoder included, no config)",
                         "it is a starting point for training, not a trained voice: choose "
                         "it as the pretrained generator on the Train page")
    return _sentence(path, "RVC generator weights without the 'config' entry",
                     "export the model again with the tool that made it")


def _rows(top: dict[str, Any], key: str) -> str:
    state = next((top[k] for k in ("model", "weight") if isinstance(top.get(k), dict)), top)
    value = state.get(key) if isinstance(state, dict) else None
    return str(value.shape[0]) if isinstance(value, torch.Tensor) and value.dim() else "?"


def describe_fairseq(path: Path, obj: Any) -> str:
    """A file readable only with the fairseq profile: an encoder if it holds one."""
    state = obj.get("model") if isinstance(obj, dict) else None
    if isinstance(state, dict):
        found = _encoder_or_pitch(Path(path), obj, _keys(state))
        if found:
            return found
    return _sentence(Path(path), "a fairseq checkpoint that is not a voice model",
                     PICK)


def describe_unreadable(path: Path, reason: str = "") -> str:
    """A file the loader could not read: what its first bytes say it is, or safeload's
    reason (a damaged PyTorch file)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        head = b""
    what = next((text for magic, text in _MAGIC if head.startswith(magic)), None)
    if head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000:
        what = "a safetensors file"
    if what is None and path.suffix.lower() == ".onnx":
        what = "an ONNX model"
    if what is None and _is_text(head):
        what = "a text file"
    if what is None or (what.startswith("a zip") and "without data.pkl" not in reason):
        return (f"{path.name} could not be read as a PyTorch file ({reason or 'unknown format'}): "
                "it is damaged or not a model file; download or export it again.")
    advice = "load it as the model's index (the Index field), not as the model" \
        if "faiss" in what else PICK
    return f"{path.name} is not a voice model: it is not a PyTorch file, it looks like " \
           f"{what}. {advice[:1].upper()}{advice[1:]}."


def _is_text(head: bytes) -> bool:
    text = head.decode("utf-8", "ignore")
    return bool(text) and all(c.isprintable() or c.isspace() for c in text)
