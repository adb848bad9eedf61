"""Batched extraction (the GPU path, forced on CPU with ``batch_size``): clips of identical
length share forward passes and give the same features as one clip at a time."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from backend.features import store
from backend.features.f0 import F0Extractor
from backend.features.hubert import ContentEncoder, load_encoder
from backend.features.rmvpe import RmvpeNet, RmvpePredictor
from backend.jobs import extract
from backend.kernel import JobCancelled, JobContext
from tests.features.tiny_models import save_tiny_fairseq_hubert, save_tiny_rmvpe
from tests.project.helpers import long_speech, run_cli, speech


def _signals(n: int, count: int = 4, seed: int = 0) -> list[np.ndarray]:
    """Equal-length signals of different levels and offsets (normalisation matters)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    return [(0.05 + 0.3 * i) * np.sin(2 * np.pi * (110 + 40 * i) * t).astype(np.float32)
            + 0.02 * rng.standard_normal(n).astype(np.float32) + 0.01 * i
            for i in range(count)]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("batch") / "Stapel ü 声"
    data = tmp / "daten"
    src = long_speech(speech(tmp / "src", "s.wav", 1), tmp / "src" / "lang ä.wav", 22.0)
    x, sr = sf.read(src, dtype="float32")  # a continuous hum under the speech: no silence,
    t = np.arange(len(x)) / sr  # so prepare cuts one segment into equal 3.7 s chunks
    sf.write(src, x + sum(0.03 / k * np.sin(2 * np.pi * 140 * k * t) for k in (1, 2, 3)), sr)
    project = tmp / "Projekt ö"
    code, _, err = run_cli("prepare", str(src), "--project", str(project))
    assert code == 0, err
    return {"project": project, "data": data,
            "encoder": save_tiny_fairseq_hubert(tmp / "enc ö" / "hubert_base.pt", layers=4),
            "rmvpe": save_tiny_rmvpe(data / "assets" / "rmvpe" / "rmvpe.pt")}


def test_encode_batch_equals_encode(files: dict[str, Path]) -> None:
    wavs = _signals(8000 + 123)
    for normalize in (False, True):  # fairseq's task.normalize: per-input normalisation
        enc = load_encoder(files["encoder"], normalize=normalize, v1_layer=3)  # 4 layers
        for version in ("v1", "v2"):
            batch = enc.encode_batch(wavs, version=version)
            assert len(batch) == len(wavs)
            for wav, got in zip(wavs, batch, strict=True):
                want = enc.encode(wav, version=version)
                assert got.shape == want.shape and got.dtype == torch.float32
                assert (got - want).abs().max().item() < 1e-5, (normalize, version)
        # normalisation is per input: the same signal louder gives the same features only then
        loud = enc.encode_batch([wavs[0], 4 * wavs[0]])
        assert ((loud[0] - loud[1]).abs().max().item() < 1e-4) == normalize


def test_encode_batch_long_inputs_and_bad_lengths(files: dict[str, Path]) -> None:
    enc = load_encoder(files["encoder"])
    wavs = _signals(12000, count=2)
    # longer than the chunk: each input through encode() with the same chunking
    batch = enc.encode_batch(wavs, chunk_s=0.4, context_s=0.1)
    for wav, got in zip(wavs, batch, strict=True):
        want = enc.encode(wav, chunk_s=0.4, context_s=0.1)
        assert (got - want).abs().max().item() < 1e-5
    with pytest.raises(ValueError, match="identical length"):
        enc.encode_batch([wavs[0], wavs[1][:-1]])
    assert enc.encode_batch([]) == []


def test_rmvpe_and_crepe_batch_equal_per_item() -> None:
    torch.manual_seed(3)
    predictor = RmvpePredictor(RmvpeNet().eval(), own_net=True, chunk_frames=32,
                               context_frames=8)
    wavs = _signals(6000, count=2, seed=1)  # 38 frames: two chunks with context
    batch = predictor.salience_batch(wavs)
    for wav, got in zip(wavs, batch, strict=True):
        np.testing.assert_allclose(got, predictor.salience(wav), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="identical length"):
        predictor.salience_batch([wavs[0], wavs[1][:-5]])
    # rmvpe through F0Extractor.extract_batch runs in the job tests below
    ex = F0Extractor()
    for method in ("crepe-tiny", "pm"):
        got = ex.extract_batch(wavs, method)
        for wav, f0 in zip(wavs, got, strict=True):
            np.testing.assert_allclose(f0, ex.extract(wav, method), rtol=1e-5, atol=1e-4)


def _job(project: Path, encoder: Path, **args: object) -> tuple[dict, JobContext]:
    ctx = JobContext("t", "extract", lambda e, d: None)
    params = extract.prepare({"project": str(project), "device": "cpu", "workers": 1,
                              "f0": "rmvpe", "encoder": str(encoder), **args})
    return extract.run(params, ctx), ctx


def _npys(project: Path) -> dict[str, np.ndarray]:
    base = project / "features"
    return {p.relative_to(base).as_posix(): np.load(p) for p in sorted(base.rglob("*.npy"))}


def _groups(project: Path) -> dict[int, list[Path]]:
    out: dict[int, list[Path]] = {}
    for wav in sorted((project / "prepared").rglob("*.wav")):
        if "16k" in wav.parent.name:
            out.setdefault(sf.info(wav).frames, []).append(wav)
    return out


@pytest.fixture()
def spy(monkeypatch: pytest.MonkeyPatch, files: dict[str, Path]) -> list[int]:
    """Batch sizes that reached the encoder's batched forward pass."""
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(files["data"]))
    sizes: list[int] = []
    real = ContentEncoder.encode_batch

    def recording(self: ContentEncoder, wavs: list, *a: object, **kw: object) -> list:
        sizes.append(len(wavs))
        return real(self, wavs, *a, **kw)

    monkeypatch.setattr(ContentEncoder, "encode_batch", recording)
    return sizes


def test_job_batched_equals_one_by_one(files: dict[str, Path], tmp_path: Path,
                                       spy: list[int]) -> None:
    one = shutil.copytree(files["project"], tmp_path / "eins ü")
    four = shutil.copytree(files["project"], tmp_path / "vier 声")
    assert max(len(g) for g in _groups(one).values()) >= 4  # prepare's equal-length chunks
    res1, _ = _job(one, files["encoder"], batch_size=1)
    assert spy == []
    res4, _ = _job(four, files["encoder"], batch_size=4)
    assert 4 in spy and all(s <= 4 for s in spy)
    assert res4["batch_size"] == 4 and res4["errors"] == [] and res1["errors"] == []
    assert res4["processed"] == res1["processed"] == sum(len(g) for g in _groups(one).values())
    a, b = _npys(one), _npys(four)
    assert a.keys() == b.keys() and len(a) == 3 * res1["processed"]
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-5, err_msg=name)
    m1 = json.loads((one / store.MANIFEST).read_text("utf-8"))
    m4 = json.loads((four / store.MANIFEST).read_text("utf-8"))
    assert m1["settings"] == m4["settings"] and m1["slices"] == m4["slices"]
    again, _ = _job(four, files["encoder"], batch_size=4)  # incremental as before
    assert (again["processed"], again["skipped"]) == (0, res4["slices"])


def test_bad_clip_in_a_batch_fails_alone(files: dict[str, Path], tmp_path: Path,
                                         spy: list[int],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    project = shutil.copytree(files["project"], tmp_path / "kaputt ä")
    group = max(_groups(project).values(), key=len)
    nan_clip = group[1]  # same length, readable header, bad samples: inside a batch
    samples = sf.read(nan_clip, dtype="float32")[0]
    samples[100] = np.nan
    sf.write(nan_clip, samples, 16000, subtype="FLOAT")
    res, _ = _job(project, files["encoder"], f0="pm", batch_size=4)
    assert [e["slice"] for e in res["errors"]] == [nan_clip.stem]
    assert nan_clip.name in res["errors"][0]["message"]
    assert res["processed"] == res["slices"] - 1 and spy and max(spy) >= 2
    assert nan_clip.stem not in store.load_manifest(project)["slices"]

    # a batched forward pass that fails: the clips are done one by one instead
    def broken(self: ContentEncoder, wavs: list, *a: object, **kw: object) -> list:
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(ContentEncoder, "encode_batch", broken)
    shutil.rmtree(project / "features")
    res, _ = _job(project, files["encoder"], f0="pm", batch_size=4)
    assert [e["slice"] for e in res["errors"]] == [nan_clip.stem]
    assert res["processed"] == res["slices"] - 1
    for entry in store.load_manifest(project)["slices"].values():
        assert np.load(project / entry["content"]).shape[0] == entry["content_frames"]


def test_batched_job_cancels_fast(files: dict[str, Path], tmp_path: Path,
                                  spy: list[int]) -> None:
    project = shutil.copytree(files["project"], tmp_path / "abbruch")
    params = extract.prepare({"project": str(project), "device": "cpu", "f0": "rmvpe",
                              "encoder": str(files["encoder"]), "batch_size": 4,
                              "workers": 1})
    ctx = JobContext("t", "extract", lambda e, d: None)
    threading.Timer(0.3, ctx.cancel).start()
    t0 = time.monotonic()
    with pytest.raises(JobCancelled):
        extract.run(params, ctx)
    assert time.monotonic() - t0 < 0.3 + 1.0
    for thread in threading.enumerate():  # it stops after its batch; let it end here
        if thread.name == "extract-worker":
            thread.join(timeout=60)
    for entry in store.load_manifest(project)["slices"].values():  # only whole clips
        for key in ("f0", "f0_coarse", "content"):
            np.load(project / entry[key])


def test_batch_size_argument(files: dict[str, Path]) -> None:
    base = {"project": str(files["project"]), "device": "cpu", "f0": "pm",
            "encoder": str(files["encoder"])}
    assert extract.prepare(base).batch_size == 1  # CPU default
    assert extract.prepare({**base, "batch_size": 6}).batch_size == 6
    for bad in (0.5, -1, 65, True, "4"):
        with pytest.raises(extract.BadArgs, match="batch_size"):
            extract.prepare({**base, "batch_size": bad})
    tasks = [("a", "/nonexistent/a.wav", "/r"), ("b", "/nonexistent/b.wav", "/r")]
    assert extract._batches(tasks, 4) == [[tasks[0]], [tasks[1]]]  # unreadable: alone
