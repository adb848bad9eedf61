"""VITS model files: our inference file and package, original G_ + config.json, the errors."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import torch

from backend.models.vits import files
from backend.models.vits.files import TtsModelError, ids_for, inspect_tts, load_tts_model
from backend.protocol import E_BAD_ARGS, E_NOT_A_VOICE_MODEL, E_NOT_FOUND, E_UNSAFE_FILE
from backend.safeload import load_weights
from backend.text.symbols import VITS_EN, intersperse
from backend.train.export import ModelCard
from tests.models import vits_files as vf

EN = list(VITS_EN)
SPEAKERS = {"Ana": 0, "Bó 声": 1}


def _speak(model: files.TtsModel, text: str = "Hello there.", sid: int | None = None,
           max_len: int | None = 200) -> torch.Tensor:
    ids, _ = ids_for(model, text)
    x = torch.tensor([ids])
    sid_t = torch.tensor([sid]) if sid is not None else None
    with torch.no_grad():
        out = model.generator.infer(x, torch.tensor([len(ids)]), sid=sid_t, max_len=max_len)
    audio = out.audio
    assert audio.ndim == 3 and audio.shape[:2] == (1, 1) and audio.shape[-1] > 0
    assert torch.isfinite(audio).all()
    return audio


def test_inference_file_round_trip(unicode_dir: Path):
    cfg = vf.tiny_config(len(EN), n_speakers=2)
    net = vf.tiny_generator(cfg)
    path = files.write_tts_model(unicode_dir / "Mon modèle.pth", net.state_dict(), cfg, EN,
                                 SPEAKERS, "en", info="3 epochs")
    raw = load_weights(path)
    assert set(raw) == {"format", "format_version", "weight", "config", "symbols", "speakers",
                        "language", "frontend", "info", "sr"}
    assert (raw["format"], raw["format_version"], raw["sr"]) == ("timbre-vits", 1, 22050)
    assert raw["frontend"] == "en-espeak-vits" and raw["config"]["symbols"] == EN
    assert not any(k.startswith("enc_q.") for k in raw["weight"])
    assert {v.dtype for v in raw["weight"].values() if v.is_floating_point()} == \
        {torch.float16}

    model = load_tts_model(path)
    assert (model.source, model.name, model.language, model.sample_rate) == \
        ("export", "Mon modèle", "en", 22050)
    assert model.symbols == EN and model.speakers == SPEAKERS and model.info == "3 epochs"
    assert model.cfg == cfg and not model.generator.training
    want = {k: v.half().float() for k, v in net.state_dict().items()
            if not k.startswith("enc_q.")}
    got = model.generator.state_dict()
    assert set(got) == set(want)
    assert all(torch.equal(got[k], want[k]) for k in want)
    _speak(model, sid=1)

    listed = inspect_tts(path)
    assert (listed["speakers"], listed["n_symbols"], listed["stored_dtype"]) == \
        (["Ana", "Bó 声"], 178, "fp16")


def test_package_round_trip(unicode_dir: Path):
    cfg = vf.tiny_config(len(EN))
    net = vf.tiny_generator(cfg)
    ckpt = files.inference_file(net.state_dict(), cfg, EN, {"Ana": 0}, "en", "5 epochs")
    card = ModelCard(name="Voix d'Ana/ 1", version="vits", sample_rate=22050, f0=False,
                     f0_method=None, epochs=5, steps=40, dataset_seconds=61.0)
    pkg = files.write_tts_package(unicode_dir / "pack.zip", card.name, ckpt, card)
    with zipfile.ZipFile(pkg) as zf:
        names = sorted(zf.namelist())
        conf = json.loads(zf.read("config.json"))
    assert names == sorted(["Voix d'Ana_ 1.pth", "config.json", "model_card.md",
                            "model_card.json"])
    assert conf["symbols"] == EN and conf["model"]["hidden_channels"] == cfg.hidden_channels
    model = load_tts_model(pkg)
    assert (model.source, model.name, model.path) == ("package", "Voix d'Ana/ 1", pkg)
    assert model.card["steps"] == 40
    _speak(model)


def test_original_ljs_base_loads_and_speaks(unicode_dir: Path):
    g = vf.write_original(unicode_dir / "logs" / "ljs", "ljs_base")
    model = load_tts_model(g)  # config.json beside it, no symbols in it: the published table
    assert (model.source, model.name, model.language) == ("original", "ljs G_1000", "en")
    assert model.symbols == EN and model.speakers == {} and model.cfg.use_sdp
    assert model.info == "epoch 12"
    manifest = vf.manifest()["variants"]["ljs_base"]["generator"]
    got = model.generator.state_dict()
    assert {k: list(v.shape) for k, v in got.items()} == \
        {k: s for k, s in manifest.items() if not k.startswith("enc_q.")}
    ids, reading = ids_for(model, "Hello there.")
    assert ids == intersperse(reading.ids) and len(reading.ids) > 5
    audio = _speak(model, "Hi.", max_len=48)
    assert audio.shape[-1] == 48 * 256 or audio.shape[-1] % 256 == 0


def test_original_vctk_base_speaks_with_a_speaker(tmp_path: Path):
    g = vf.write_original(tmp_path / "vctk", "vctk_base", step=5000)
    info = inspect_tts(g)
    assert (info["n_speakers"], info["speakers"][:3], len(info["speakers"])) == \
        (109, ["0", "1", "2"], 109)
    model = load_tts_model(g)
    assert model.multi_speaker and model.speakers["108"] == 108
    _speak(model, "Hi.", sid=108, max_len=48)


def test_config_given_elsewhere_and_speaker_names_from_it(tmp_path: Path):
    conf = vf.manifest()["variants"]["vctk_base"]["config"]
    names = [f"p{225 + i}" for i in range(109)]
    g = vf.write_original(tmp_path / "run", "vctk_base", config={**conf, "speakers": names})
    moved = tmp_path / "elsewhere" / "my config.json"
    moved.parent.mkdir()
    (g.parent / "config.json").rename(moved)
    with pytest.raises(TtsModelError) as err:
        inspect_tts(g)
    assert "no config.json is beside it" in str(err.value) and str(g.parent) in str(err.value)
    assert err.value.code == E_BAD_ARGS
    info = inspect_tts(g, config=moved)
    assert info["speakers"][:2] == ["p225", "p226"] and info["config_path"] == str(moved)


def _error(path: Path, config: Path | None = None) -> TtsModelError:
    with pytest.raises(TtsModelError) as err:
        load_tts_model(path, config)
    return err.value


def test_a_table_of_other_size_without_symbols_asks_for_them(tmp_path: Path):
    cfg = vf.tiny_config(50)
    conf = cfg.to_json()  # no symbols
    g = vf.write_original(tmp_path / "fork", "ljs_base", config=conf,
                          state=vf.tiny_generator(cfg).state_dict())
    err = _error(g)
    assert "has no \"symbols\" list" in str(err) and "50 text symbols" in str(err)
    conf["symbols"] = EN[:49]
    (g.parent / "config.json").write_text(json.dumps(conf), encoding="utf-8")
    err = _error(g)
    assert "lists 49 symbols, but G_1000.pth has 50" in str(err)
    conf["symbols"] = EN[:50]
    (g.parent / "config.json").write_text(json.dumps(conf), encoding="utf-8")
    assert load_tts_model(g).symbols == EN[:50]


def test_a_config_of_another_model_names_the_keys(tmp_path: Path):
    cfg = vf.tiny_config(len(EN))
    conf = cfg.with_speakers(4).to_json(EN)  # says 4 speakers; the weights have none
    g = vf.write_original(tmp_path / "x", "ljs_base", config=conf,
                          state=vf.tiny_generator(cfg).state_dict())
    err = _error(g)
    assert str(err).startswith("G_1000.pth does not fit its configuration (")
    assert "the config says 4 speakers, the file holds none" in str(err)
    assert "config.json describes another model than G_1000.pth" in str(err)


def test_another_vits_variant_is_named(tmp_path: Path):
    cfg = vf.tiny_config(len(EN))
    state = {("enc_p.emb.weight" if k == "enc_p.emb.weight" else f"x.{k}"): v
             for k, v in vf.tiny_generator(cfg).state_dict().items()}
    g = vf.write_original(tmp_path / "v2", "ljs_base", config=cfg.to_json(EN), state=state)
    assert "it may be another VITS variant, such as VITS2 or MB-iSTFT-VITS" in str(_error(g))


def test_bad_json_is_named_with_its_line(tmp_path: Path):
    cfg = vf.tiny_config(len(EN))
    g = vf.write_original(tmp_path / "x", "ljs_base", state=vf.tiny_generator(cfg).state_dict())
    (g.parent / "config.json").write_text('{\n "data": {,}\n}', encoding="utf-8")
    err = _error(g)
    assert "config.json is not valid JSON (line 2" in str(err)


def test_files_that_are_not_tts_models_say_what_they_are(tmp_path: Path):
    from tests.convert import rvc_files as rf

    rvc = rf.write_rvc_model(tmp_path / "voice.pth", "v2", "40k", True)
    err = _error(rvc)
    assert "voice.pth is not a text-to-speech model: it holds an RVC voice model" in str(err)
    assert "Convert page" in str(err) and err.code == E_NOT_A_VOICE_MODEL
    d = tmp_path / "D_1000.pth"
    torch.save({"model": {"discriminators.0.convs.0.weight": torch.zeros(2)},
                "iteration": 1}, d)
    assert "Choose the generator G_<step>.pth beside it" in str(_error(d))
    text = tmp_path / "notes.pth"
    text.write_text("hello", encoding="utf-8")
    assert "could not be read as a PyTorch file" in str(_error(text))
    assert _error(tmp_path / "none.pth").code == E_NOT_FOUND


def test_unsafe_file_is_refused_unread(tmp_path: Path):
    evil = tmp_path / "G_1.pth"

    class Boom:
        def __reduce__(self):
            return (print, ("ran",))

    torch.save({"model": Boom()}, evil)
    err = _error(evil)
    assert err.code == E_UNSAFE_FILE and "was not loaded" in str(err)


def test_newer_format_is_refused_in_words(tmp_path: Path):
    cfg = vf.tiny_config(len(EN))
    path = files.write_tts_model(tmp_path / "m.pth", vf.tiny_generator(cfg).state_dict(), cfg,
                                 EN, {}, "en")
    raw = load_weights(path)
    raw["format_version"] = 7
    torch.save(raw, path)
    assert "written by a newer Timbre Studio (file format 7" in str(_error(path))


def test_ids_for_names_a_symbol_the_model_lacks(tmp_path: Path):
    table = [s for s in EN if s != "ə"]
    cfg = vf.tiny_config(len(table))
    path = files.write_tts_model(tmp_path / "m.pth", vf.tiny_generator(cfg).state_dict(), cfg,
                                 table, {}, "en")
    model = load_tts_model(path)
    with pytest.raises(TtsModelError) as err:
        ids_for(model, "Hello about the sofa.")
    assert "has no symbol for 'ə'" in str(err.value)
    with pytest.raises(TtsModelError, match="'😀' has nothing the en-espeak-vits front-end "
                                            "can read aloud"):
        ids_for(model, "😀")
    ids, reading = ids_for(model, "Sit.")
    assert ids[0::2] == [0] * (len(reading.symbols) + 1)
    assert ids[1::2] == [table.index(s) for s in reading.symbols]


def test_our_training_checkpoint_loads(tmp_path: Path):
    cfg = vf.tiny_config(len(EN), n_speakers=2)
    net = vf.tiny_generator(cfg)
    ckpt = tmp_path / "Run 1" / "checkpoints" / "ckpt_000000040.pt"
    ckpt.parent.mkdir(parents=True)
    vits = {"size": "tiny", "language": "en", "symbols": EN, "speakers": SPEAKERS,
            "use_sdp": True, "sample_rate": 22050}
    torch.save({"task": {"G": net.state_dict(), "D": {}, "vits": vits}, "epoch": 2,
                "step": 40}, ckpt)
    model = load_tts_model(ckpt)
    assert (model.source, model.speakers, model.info) == ("checkpoint", SPEAKERS,
                                                          "epoch 2, step 40")
    assert model.cfg.n_speakers == 2 and model.cfg.hidden_channels == cfg.hidden_channels
    _speak(model, sid=0)


def test_cuda_asked_where_there_is_none(tmp_path: Path):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(Exception, match="CUDA is not available here"):
        load_tts_model(tmp_path / "m.pth", device="cuda")
