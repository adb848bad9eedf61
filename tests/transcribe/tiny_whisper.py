"""A tiny random-weight Whisper in the faster-whisper (CTranslate2) folder layout, built offline.

The vocabulary has the real layout (51865 tokens: 50257 text tokens, the last of them the empty
string, then the special tokens at their usual ids, 99 languages, 1501 timestamps), because
CTranslate2 derives "multilingual" (the empty token is there) and the language count (from the
special tokens' ids) from it; the model itself is a few megabytes (d_model 64, 2 layers).
The tokenizer is a byte-level BPE built with ``tokenizers``: the 256 byte symbols plus filler
words, so decoding any token gives text and word timestamps have words to align. Nothing is
downloaded (``HF_HUB_OFFLINE`` is set while building).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import string
import tempfile
from pathlib import Path

TEXT_TOKENS = 50257
LANGUAGES = (
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv",
    "it", "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no",
    "th", "ur", "hr", "bg", "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr",
    "az", "sl", "kn", "et", "mk", "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw",
    "gl", "mr", "pa", "si", "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu",
    "am", "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl",
    "mg", "as", "tt", "haw", "ln", "ha", "ba", "jw", "su",
)  # Whisper's order (the 99 of the multilingual models before large-v3)
TASK_TOKENS = ("<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>",
               "<|nocaptions|>", "<|notimestamps|>")
VOCAB_SIZE = 51865
DIMS = {"d_model": 64, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 2,
        "decoder_attention_heads": 2, "encoder_ffn_dim": 128, "decoder_ffn_dim": 128}


def _byte_symbols() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes (the byte-level BPE alphabet)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + \
        list(range(0xAE, 0x100))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def vocabulary() -> dict[str, int]:
    """Token -> id, 51865 entries, specials and timestamps at Whisper's ids."""
    tokens = _byte_symbols()
    space = tokens[ord(" ")]
    letters = string.ascii_lowercase
    seen = set(tokens)
    last = TEXT_TOKENS - 1  # id 50256 is the empty token: CTranslate2 reads it as "multilingual"
    for length in itertools.count(2):
        for combo in itertools.product(letters, repeat=length):
            for word in (space + "".join(combo), "".join(combo)):
                if word not in seen:
                    tokens.append(word)
                    seen.add(word)
                if len(tokens) == last:
                    break
            if len(tokens) == last:
                break
        if len(tokens) == last:
            break
    tokens += ["", "<|endoftext|>", "<|startoftranscript|>"]
    tokens += [f"<|{code}|>" for code in LANGUAGES]
    tokens += list(TASK_TOKENS)
    tokens += [f"<|{i * 0.02:.2f}|>" for i in range(VOCAB_SIZE - len(tokens))]
    assert len(tokens) == VOCAB_SIZE
    return {t: i for i, t in enumerate(tokens)}


def special_tokens() -> list[str]:
    return ["<|endoftext|>", "<|startoftranscript|>",
            *[f"<|{c}|>" for c in LANGUAGES], *TASK_TOKENS]


def build_tokenizer(vocab: dict[str, int]):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    text_vocab = {t: i for t, i in vocab.items() if i < TEXT_TOKENS}
    tok = Tokenizer(models.BPE(vocab=text_vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = [t for t, i in sorted(vocab.items(), key=lambda kv: kv[1]) if i >= TEXT_TOKENS]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    assert tok.token_to_id("<|notimestamps|>") == vocab["<|notimestamps|>"]
    return tok


def _hf_folder(folder: Path, vocab: dict[str, int], seed: int) -> None:
    """A transformers Whisper folder: config, random weights, generation config, tokenizer."""
    import torch
    from transformers import (
        GenerationConfig,
        PreTrainedTokenizerFast,
        WhisperConfig,
        WhisperForConditionalGeneration,
    )

    torch.manual_seed(seed)
    eot, sot = vocab["<|endoftext|>"], vocab["<|startoftranscript|>"]
    config = WhisperConfig(vocab_size=VOCAB_SIZE, num_mel_bins=80, max_source_positions=1500,
                           max_target_positions=448, pad_token_id=eot, bos_token_id=eot,
                           eos_token_id=eot, decoder_start_token_id=sot, **DIMS)
    model = WhisperForConditionalGeneration(config).eval()
    lang_to_id = {f"<|{c}|>": vocab[f"<|{c}|>"] for c in LANGUAGES}
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot, eos_token_id=eot, pad_token_id=eot,
        suppress_tokens=[], begin_suppress_tokens=[vocab[_byte_symbols()[32]], eot],
        lang_to_id=lang_to_id, alignment_heads=[[1, 0], [1, 1]],
        no_timestamps_token_id=vocab["<|notimestamps|>"])
    model.save_pretrained(folder)
    fast = PreTrainedTokenizerFast(tokenizer_object=build_tokenizer(vocab),
                                   eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                   unk_token="<|endoftext|>",
                                   additional_special_tokens=special_tokens()[1:])
    fast.save_pretrained(folder)


def _preprocessor_config(n_mels: int = 80) -> dict:
    return {"chunk_length": 30, "feature_extractor_type": "WhisperFeatureExtractor",
            "feature_size": n_mels, "hop_length": 160, "n_fft": 400, "n_samples": 480000,
            "nb_max_frames": 3000, "padding_side": "right", "padding_value": 0.0,
            "processor_class": "WhisperProcessor", "return_attention_mask": False,
            "sampling_rate": 16000}


def build_tiny_whisper(out_dir: Path, *, seed: int = 0, quantization: str = "int8") -> Path:
    """Write a faster-whisper model folder (model.bin, config.json, vocabulary.json,
    tokenizer.json, preprocessor_config.json) into ``out_dir``; returns it."""
    from ctranslate2.converters import TransformersConverter

    old = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        vocab = vocabulary()
        with tempfile.TemporaryDirectory(prefix="tiny-whisper-hf-") as tmp:
            hf = Path(tmp)
            _hf_folder(hf, vocab, seed)
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            TransformersConverter(str(hf)).convert(str(out_dir), quantization=quantization,
                                                   force=True)
            shutil.copyfile(hf / "tokenizer.json", out_dir / "tokenizer.json")
    finally:
        if old is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old
    (out_dir / "preprocessor_config.json").write_text(
        json.dumps(_preprocessor_config(), indent=2), encoding="utf-8")
    return out_dir


if __name__ == "__main__":  # python tests/transcribe/tiny_whisper.py OUT_DIR
    import sys

    print(build_tiny_whisper(Path(sys.argv[1])))
