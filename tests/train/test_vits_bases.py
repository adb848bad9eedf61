"""Fine-tuning VITS from a base with another symbol table or other speakers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from backend.models.vits import build_vits_discriminator
from backend.models.vits.files import inference_file, write_tts_model, write_tts_package
from backend.text.symbols import VITS_EN
from backend.train.pretrained import PretrainedError, load_into
from backend.train.vits_bases import fit_vits_base
from tests.models import vits_files as vf

IPA = "ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎ"
# a fork's 50-symbol table: pad, punctuation, lowercase letters, 16 IPA characters
BASE = ["_", *";:,.!? ", *"abcdefghijklmnopqrstuvwxyz", *IPA[:16]]
# this model's 78 symbols: another order, without ';' ':' and 'q', with 31 new IPA symbols
OURS = ["_", *" !,.?", *IPA[:16][::-1], *"zyxwvutsrponmlkjihgfedcba", *IPA[16:47]]


@pytest.fixture(autouse=True)
def _one_thread():
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _base(folder: Path, symbols: list[str] | None, *, speakers: list[str] | None = None,
          use_sdp: bool = True, seed: int = 7) -> tuple[Path, dict[str, torch.Tensor]]:
    """An original-layout G_ base with its config.json (with ``symbols`` when given)."""
    cfg = vf.tiny_config(len(symbols or BASE), len(speakers or []), use_sdp=use_sdp)
    state = vf.tiny_generator(cfg, seed=seed).state_dict()
    conf = cfg.to_json(symbols)
    if speakers:
        conf["speakers"] = speakers
    return vf.write_original(folder, "ljs_base", config=conf, state=state), state


def test_fifty_symbol_base_into_a_seventy_eight_symbol_model(unicode_dir: Path):
    assert (len(BASE), len(OURS)) == (50, 78)
    path, base = _base(unicode_dir / "fork base", BASE)
    model = vf.tiny_generator(vf.tiny_config(len(OURS)), seed=1)
    fresh = model.enc_p.emb.weight.detach().clone()

    # what loading by key alone does: the table is skipped, its 50 trained rows lost
    plain = vf.tiny_generator(vf.tiny_config(len(OURS)), seed=1)
    assert load_into(plain, path).mismatched == [("enc_p.emb.weight", (50, 16), (78, 16))]

    report = fit_vits_base(model, path, "G", OURS, {})
    emb = model.enc_p.emb.weight.detach()
    shared = [s for s in OURS if s in BASE]
    new = [s for s in OURS if s not in BASE]
    assert (len(shared), len(new)) == (47, 31)
    for s in shared:  # by symbol, not by index
        assert torch.equal(emb[OURS.index(s)], base["enc_p.emb.weight"][BASE.index(s)]), s
    assert any(OURS.index(s) != BASE.index(s) for s in shared)
    for s in new:
        assert torch.equal(emb[OURS.index(s)], fresh[OURS.index(s)]), s

    line = report.adapted[0]
    assert line.startswith("enc_p.emb.weight: symbol table 50 -> 78 symbols; 47 mapped by "
                           "symbol (from config.json): '_' ' ' '!' ',' '.' '?' ")
    assert "31 fresh (not in the base, they start from scratch): 'ɚ' 'ɛ' 'ɜ'" in line
    assert "and 23 more" in line
    assert "3 of the base dropped (not in this model's table): ';' ':' 'q'" in line
    # every other key loaded as it is: nothing skipped, missing or unexpected
    assert report.clean and report.loaded == len(base)
    assert report.lines()[0] == f"G_1000.pth: loaded {len(base)} tensors"
    own = model.state_dict()
    assert all(torch.equal(own[k], v) for k, v in base.items() if k != "enc_p.emb.weight")


def test_speaker_table_is_resized_by_name_then_in_order(tmp_path: Path):
    path, base = _base(tmp_path / "multi", list(VITS_EN), speakers=["ann", "bob", "cy"])
    speakers = {"bob": 0, "dee": 1, "eve": 2, "fay": 3}
    model = vf.tiny_generator(vf.tiny_config(len(VITS_EN), n_speakers=4), seed=2)
    fresh = model.emb_g.weight.detach().clone()
    report = fit_vits_base(model, path, "G", list(VITS_EN), speakers)
    rows, was = model.emb_g.weight.detach(), base["emb_g.weight"]
    assert torch.equal(rows[0], was[1])  # bob kept his row
    assert torch.equal(rows[1], was[0]) and torch.equal(rows[2], was[2])  # unused rows
    assert torch.equal(rows[3], fresh[3])  # no row left: fresh
    line = next(a for a in report.adapted if a.startswith("emb_g.weight"))
    assert line == ("emb_g.weight: speaker table [3, 16] -> [4, 16]; 1 kept by name: 'bob'; "
                    "2 from the base's rows in order: 'dee' <- base row 0, 'eve' <- base "
                    "row 2; 1 fresh: 'fay'")
    assert "178 mapped by symbol (from config.json)" in report.adapted[0]
    assert report.clean


def test_everything_else_is_reported_key_by_key(tmp_path: Path):
    path, _ = _base(tmp_path / "sdp", list(VITS_EN), use_sdp=True)
    model = vf.tiny_generator(vf.tiny_config(len(VITS_EN), use_sdp=False))
    report = fit_vits_base(model, path, "G", list(VITS_EN), {})
    assert ("dp.proj.weight", (16, 16, 1), (1, 32, 1)) in report.mismatched
    assert "dp.conv_1.weight" in report.missing and "dp.norm_1.gamma" in report.missing
    assert any(k.startswith("dp.flows.") for k in report.unexpected)
    text = "\n".join(report.lines())
    assert "  skipped dp.proj.weight: file has [16, 16, 1], model needs [1, 32, 1]" in text
    assert "not in the file (kept at initial values): dp.conv_1.bias, dp.conv_1.weight" in text
    assert not report.clean


def test_a_base_without_a_symbol_table_starts_every_row_fresh(tmp_path: Path):
    path, _ = _base(tmp_path / "anon", BASE)
    conf = json.loads((path.parent / "config.json").read_text(encoding="utf-8"))
    del conf["symbols"]
    (path.parent / "config.json").write_text(json.dumps(conf), encoding="utf-8")
    model = vf.tiny_generator(vf.tiny_config(len(OURS)))
    fresh = model.enc_p.emb.weight.detach().clone()
    report = fit_vits_base(model, path, "G", OURS, {})
    assert torch.equal(model.enc_p.emb.weight.detach(), fresh)
    assert "the base has no symbol table, so no row can be matched by symbol and all 78 " \
        "start fresh (put the base's config.json with its \"symbols\" list beside it" in \
        report.adapted[0]


def test_our_export_as_a_base_carries_its_table(tmp_path: Path):
    cfg = vf.tiny_config(len(BASE))
    base = vf.tiny_generator(cfg, seed=3)
    path = write_tts_model(tmp_path / "mine.pth", base.state_dict(), cfg, BASE, {}, "en")
    model = vf.tiny_generator(vf.tiny_config(len(OURS)))
    report = fit_vits_base(model, path, "G", OURS, {})
    assert "47 mapped by symbol (stored in the base)" in report.adapted[0]
    row = model.enc_p.emb.weight[OURS.index("k")].detach()
    assert torch.equal(row, base.enc_p.emb.weight[BASE.index("k")].detach().half().float())
    assert report.missing and all(k.startswith("enc_q.") for k in report.missing)

    ckpt = inference_file(base.state_dict(), cfg, BASE, {}, "en")
    card = {"name": "Base 声", "steps": 10}
    pkg = write_tts_package(tmp_path / "base.zip", "Base 声", ckpt, card)
    again = vf.tiny_generator(vf.tiny_config(len(OURS)))
    report = fit_vits_base(again, pkg, "G", OURS, {})
    assert "47 mapped by symbol (stored in the base)" in report.adapted[0]
    assert torch.equal(again.enc_p.emb.weight[OURS.index("k")].detach(), row)


def test_discriminator_and_wrong_files(tmp_path: Path):
    cfg = vf.tiny_config(len(VITS_EN))
    d_base = build_vits_discriminator(cfg)
    d_path = tmp_path / "D_1000.pth"
    torch.save({"model": d_base.state_dict(), "iteration": 3}, d_path)
    d = build_vits_discriminator(cfg)
    report = fit_vits_base(d, d_path, "D", list(VITS_EN), {})
    assert report.clean and report.loaded == len(d_base.state_dict())

    g_path, _ = _base(tmp_path / "g", list(VITS_EN))
    with pytest.raises(PretrainedError, match="no tensor of G_1000.pth fits this VITS "
                                              "discriminator"):
        fit_vits_base(build_vits_discriminator(cfg), g_path, "D", list(VITS_EN), {})

    from tests.convert import rvc_files as rf

    rvc = rf.write_rvc_model(tmp_path / "voice.pth", "v2", "40k", True)
    with pytest.raises(PretrainedError, match="is an RVC base \\(voice conversion\\), not a "
                                              "VITS text-to-speech base"):
        fit_vits_base(vf.tiny_generator(cfg), rvc, "G", list(VITS_EN), {})
