"""Files that are not voice models: the message says what each looks like and what to do."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from backend.convert.voice_model import E_NOT_A_VOICE_MODEL, NotAVoiceModel, load_voice_model
from tests.convert import rvc_files as rf
from tests.features.tiny_models import save_tiny_fairseq_hubert

RMVPE = Path(__file__).resolve().parents[1] / "data" / "reference" / \
    "rmvpe_state_dict_manifest.json"


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "user data"))


def _message(path: Path) -> str:
    with pytest.raises(NotAVoiceModel) as err:
        load_voice_model(path)
    assert err.value.code == E_NOT_A_VOICE_MODEL
    assert path.name in err.value.message
    return err.value.message


def _t(*shape: int) -> torch.Tensor:
    return torch.zeros(shape)


def _save(obj: object, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)
    return path


def _training_top(state: dict) -> dict:
    return {"model": state, "iteration": 20, "optimizer": {"state": {}, "param_groups": []},
            "learning_rate": 1e-4}


# RVC files that are not the inference model -----------------------------------------------
def test_rvc_training_checkpoint_says_export_first(unicode_dir: Path):
    text = _message(rf.write_training_checkpoint(unicode_dir / "G_2000.pth"))
    assert "looks like an RVC training checkpoint (G_<step>.pth" in text
    assert "Export a voice model from it first" in text
    assert "python -m backend export --project" in text and "Train page" in text


def test_our_training_checkpoint_names_the_project(unicode_dir: Path):
    project = unicode_dir / "Ma voix"
    path = _save({"format": 1, "step": 5, "task": {"G": {"enc_p.emb_phone.weight": _t(2, 2)},
                                                   "D": {}, "rvc": {}}},
                 project / "train" / "main" / "ckpt_000000005.pt")
    text = _message(path)
    assert "a Timbre Studio training checkpoint" in text
    assert f"python -m backend export --project \"{project}\"" in text


def test_pretrained_base_and_discriminators(tmp_path: Path):
    text = _message(rf.write_pretrained_base(tmp_path / "f0G40k.pth"))
    assert "an RVC pretrained base" in text and "pretrained generator on the Train page" in text
    text = _message(rf.write_discriminator_base(tmp_path / "f0D40k.pth"))
    assert "an RVC pretrained discriminator" in text
    text = _message(rf.write_training_checkpoint(tmp_path / "D_2000.pth", kind="D"))
    assert "the discriminator of an RVC training run (D_<step>.pth)" in text


def test_inference_model_without_config(tmp_path: Path):
    ckpt = rf.rvc_checkpoint("v2", "40k", True)
    del ckpt["config"]
    text = _message(_save(ckpt, tmp_path / "no config.pth"))
    assert "an RVC voice model without its 'config' entry" in text


# other tools ---------------------------------------------------------------------------------
def test_so_vits_svc_4(tmp_path: Path):
    state = {"emb_g.weight": _t(1, 256), "pre.weight": _t(192, 768, 5),
             "enc_p.f0_emb.weight": _t(256, 192), "emb_uv.weight": _t(2, 192),
             "enc_p.enc_.attn_layers.0.conv_q.weight": _t(192, 192, 1),
             "f0_decoder.prenet.weight": _t(192, 192, 3), "dec.conv_pre.weight": _t(512, 192, 7)}
    text = _message(_save(_training_top(state), tmp_path / "G_10000.pth"))
    assert "a so-vits-svc 4.x model" in text and "another architecture" in text
    assert "training checkpoint" not in text


def test_so_vits_svc_3(tmp_path: Path):
    state = {"enc_p_.pre.weight": _t(192, 256, 1), "enc_p_.f0_emb.weight": _t(256, 192),
             "dec.conv_pre.weight": _t(512, 192, 7)}
    assert "a so-vits-svc 3.x model" in _message(_save(_training_top(state), tmp_path / "G.pth"))


def test_diff_svc(tmp_path: Path):
    ckpt = {"global_step": 100000, "epoch": 12,
            "state_dict": {"model.denoise_fn.input_projection.weight": _t(384, 128, 1),
                           "model.fs2.encoder.layers.0.weight": _t(4, 4)},
            "optimizer_states": [{}], "lr_schedulers": [{}]}
    text = _message(_save(ckpt, tmp_path / "model_ckpt_steps_100000.ckpt"))
    assert "a Diff-SVC model" in text


def test_gpt_sovits(tmp_path: Path):
    sovits = {"weight": {"ssl_proj.weight": _t(768, 768, 2), "enc_p.text_embedding.weight":
                         _t(732, 192), "quantizer.vq.layers.0._codebook.embed": _t(1024, 768)},
              "config": {"data": {"sampling_rate": 32000}}, "info": "e8_s200"}
    text = _message(_save(sovits, tmp_path / "voice_e8_s200.pth"))
    assert "a GPT-SoVITS (SoVITS) model" in text and "without its 'config'" not in text
    gpt = {"weight": {"model.ar_text_embedding.word_embeddings.weight": _t(512, 512)},
           "config": {"model": {}}, "info": "GPT-e15"}
    assert "a GPT-SoVITS (GPT) model" in _message(_save(gpt, tmp_path / "voice-e15.ckpt"))


def test_other_lightning_checkpoint(tmp_path: Path):
    ckpt = {"state_dict": {"model.diffusion.denoiser.weight": _t(2)}, "global_step": 3}
    assert "a PyTorch Lightning checkpoint of another tool" in \
        _message(_save(ckpt, tmp_path / "epoch=88.ckpt"))


def test_vits_tts_checkpoint(tmp_path: Path):
    state = {"enc_p.emb.weight": _t(178, 192),
             "enc_p.encoder.attn_layers.0.emb_rel_k": _t(1, 9, 96),
             "dp.flows.0.logs": _t(2, 1), "enc_q.pre.weight": _t(192, 513, 1),
             "dec.conv_pre.weight": _t(512, 192, 7), "flow.flows.0.pre.weight": _t(192, 96, 1)}
    text = _message(_save(_training_top(state), tmp_path / "G_ljs.pth"))
    assert "it looks like a VITS text-to-speech model (178 text symbols) (a training " \
        "checkpoint: keep its config.json beside it). Use it on the Speak page" in text
    ours = {"format": "timbre-vits", "format_version": 1, "weight": state,
            "config": {"model": {}}, "symbols": ["_"] * 178}
    text = _message(_save(ours, tmp_path / "Ma voix.pth"))
    assert "it looks like a VITS text-to-speech model (178 text symbols). Use it on the " \
        "Speak page: it reads text aloud" in text


def test_vits_discriminator(tmp_path: Path):
    state = {f"discriminators.{i}.convs.0.weight": _t(2) for i in range(6)}
    text = _message(_save(_training_top(state), tmp_path / "D_100.pth"))
    assert "the discriminator of a VITS text-to-speech training run (D_<step>.pth)" in text
    state["discriminators.6.convs.0.weight"] = _t(2)
    text = _message(_save(_training_top(state), tmp_path / "D_200.pth"))
    assert "the discriminator of an RVC training run" in text


def test_fairseq_hubert(tmp_path: Path):
    path = save_tiny_fairseq_hubert(tmp_path / "hubert_base.pt", layers=2)
    text = _message(path)
    assert "a HuBERT/ContentVec content encoder (fairseq format)" in text
    assert "--as hubert-base" in text


def test_hugging_face_hubert(tmp_path: Path):
    state = {"feature_extractor.conv_layers.0.conv.weight": _t(512, 1, 10),
             "encoder.layers.0.attention.k_proj.weight": _t(768, 768)}
    text = _message(_save(state, tmp_path / "pytorch_model.bin"))
    assert "a HuBERT/ContentVec content encoder (Hugging Face format)" in text
    assert "--as contentvec-hf" in text


def test_rmvpe(tmp_path: Path):
    names = json.loads(RMVPE.read_text())
    state = {k: _t(1) for k in list(names)[:20] + list(names)[-4:]}
    text = _message(_save(state, tmp_path / "rmvpe.pt"))
    assert "the RMVPE pitch model (rmvpe.pt)" in text and "--as rmvpe" in text


def test_unknown_torch_contents(tmp_path: Path):
    assert "a saved Tensor, not a dict" in _message(_save(_t(3), tmp_path / "t.pth"))
    text = _message(_save({"alpha.weight": _t(2), "beta": 3}, tmp_path / "odd.pth"))
    assert "a PyTorch file that no known voice tool writes (2 entries, such as alpha.weight" \
        in text


# not PyTorch at all ---------------------------------------------------------------------------
def test_audio_index_text_and_other_formats(unicode_dir: Path):
    wav = unicode_dir / "voice.pth"  # a misnamed recording
    sf.write(wav, np.zeros(1600, np.float32), 16000, format="WAV")
    assert "it is not a PyTorch file, it looks like a WAV audio file" in _message(wav)
    index = rf.write_index(unicode_dir, "x", "v2")
    text = _message(index)
    assert "a faiss retrieval index" in text and "the Index field" in text
    notes = unicode_dir / "readme.pth"
    notes.write_text("Model by someone\nuse 40k\n", encoding="utf-8")
    assert "looks like a text file" in _message(notes)
    header = json.dumps({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    st = unicode_dir / "model.safetensors"
    st.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
    assert "looks like a safetensors file" in _message(st)
    onnx = unicode_dir / "model.onnx"
    onnx.write_bytes(b"\x08\x07\x12\x07pytorch")
    assert "looks like an ONNX model" in _message(onnx)


def test_zip_without_a_model_and_a_damaged_pth(tmp_path: Path):
    archive = tmp_path / "voices.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert "a zip archive with no voice model (.pth) in it" in _message(archive)
    good = rf.write_rvc_model(tmp_path / "good.pth")
    cut = tmp_path / "cut.pth"
    cut.write_bytes(good.read_bytes()[:5000])
    text = _message(cut)
    assert "could not be read as a PyTorch file" in text and "damaged" in text
