"""A tiny VITS model trains on labelled festival speech through the real engine: its mel loss
falls, it resumes exactly after SIGKILL, a batch-size change keeps the step count, the
out-of-memory fallback splits the step, and every save speaks the test sentences."""

from __future__ import annotations

import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
import torch

from backend.labels import store
from backend.text.symbols import symbol_ids
from backend.train import checkpoint as ck
from backend.train.engine import Amp, Engine, EngineConfig, IncompatibleCheckpoint, TrainHooks
from backend.train.vits_task import SAMPLE_SENTENCES, VitsTask
from tests.train.vits_project import labelled_copy, train, vits_config

SCRIPT = Path(__file__).with_name("vits_project.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return labelled_copy(tmp_path_factory, tmp_path_factory.mktemp("vits") / "Voix ü")


@pytest.fixture(autouse=True)
def one_thread() -> None:
    torch.set_num_threads(1)  # as the subprocess: the same sums in the same order


def _amp() -> Amp:
    return Amp(torch.device("cpu"), None, torch.amp.GradScaler("cpu", enabled=False))


def _records(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").open(encoding="utf-8")]


def _sample_hooks(task_box: list) -> TrainHooks:
    def on_save(path: Path, step: int) -> None:
        task_box[0].render_sample(path.parent / "samples" / f"step_{step:09d}.wav")
    return TrainHooks(on_save=on_save)


def test_tiny_model_learns_and_speaks_at_each_save(root: Path) -> None:
    run = root / "train" / "learns"
    box: list = []
    cfg = vits_config(root, learning_rate=2e-3)
    task = VitsTask(cfg, root, run)
    box.append(task)
    engine = Engine(EngineConfig(run_dir=run, epochs=6, batch_size=2, save_every_epochs=3,
                                 device="cpu", deterministic=True), task, _sample_hooks(box))
    engine.run()
    records = _records(run)
    assert [r["step"] for r in records] == list(range(1, 19))
    for key in ("loss_d", "loss_g", "loss_adv", "loss_fm", "loss_mel", "loss_kl", "loss_dur",
                "grad_norm_g", "grad_norm_d", "lr"):
        assert all(isinstance(r[key], float) and math.isfinite(r[key]) for r in records), key
    mel = [r["loss_mel"] for r in records]
    first, last = statistics.mean(mel[:4]), statistics.mean(mel[-4:])
    assert last < 0.75 * first, f"mel loss did not fall: {first:.2f} -> {last:.2f}"
    samples = sorted((run / "samples").iterdir())
    assert [p.name for p in samples] == ["step_000000009.wav", "step_000000018.wav"]
    audio, sr = sf.read(samples[-1])
    assert sr == 22050 and audio.ndim == 1 and abs(audio).max() > 1e-3
    # the first test sentence is a training sentence: spoken about as long as recorded
    text, ids, sid = task.sample_inputs()[0]
    clip = next(u for u in task.data.train + task.data.validation if u.text == text)
    torch.manual_seed(0)
    spoken = task._speak(ids, sid).shape[0] / sr
    assert 0.5 * clip.seconds < spoken < 2 * clip.seconds, (spoken, clip.seconds)
    assert len(audio) / sr > spoken  # the sample holds both sentences


def test_sigkill_then_resume_matches_uninterrupted(root: Path) -> None:
    _, ref = train(root, root / "train" / "reference", epochs=3, batch=2)
    run = root / "train" / "killed – é"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(root), str(run), "3", "2"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not ck.list_checkpoints(run) and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate()
    kept = ck.list_checkpoints(run)
    assert kept, err.decode()[-2000:]
    assert kept[-1].name != "ckpt_000000009.pt", "the run finished before the kill"
    engine, task = train(root, run, epochs=3, batch=2)
    assert engine.resumed_from is not None and engine.step == 9
    for part in ("G", "D"):
        got, want = getattr(task, part).state_dict(), getattr(ref, part).state_dict()
        for key, value in want.items():
            torch.testing.assert_close(got[key], value, rtol=0, atol=1e-5,
                                       msg=f"{part}.{key} differs after resume")
    assert [r["step"] for r in _records(run)] == list(range(1, 10))


def test_batch_size_change_keeps_the_step_count(root: Path) -> None:
    run = root / "train" / "batch change"
    engine, _ = train(root, run, epochs=1, batch=2)
    assert (engine.step, engine.samples) == (3, 5)
    logs: list[tuple[str, str]] = []
    engine, _ = train(root, run, epochs=2, batch=4,
                      hooks=TrainHooks(on_log=lambda m, lvl: logs.append((lvl, m))))
    assert (engine.step, engine.samples) == (5, 10)
    records = _records(run)
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]
    assert [r["samples"] for r in records] == [2, 4, 5, 9, 10]
    assert any("batch size changed from 2 to 4" in m for _, m in logs)
    # a run resumed with settings its weights do not have is refused in one sentence
    other = VitsTask(vits_config(root, use_sdp=False), root, run)
    with pytest.raises(IncompatibleCheckpoint, match=(
            r"ckpt_000000005\.pt: it was saved with the stochastic duration predictor, but "
            r"this run asks for the deterministic duration predictor; start a new run")):
        Engine(EngineConfig(run_dir=run, epochs=3, batch_size=4, device="cpu"),
               other).prepare()


def _task(root: Path, run: Path, **kw: Any) -> VitsTask:
    torch.manual_seed(0)
    task = VitsTask(vits_config(root, **kw), root, run)
    task.setup(torch.device("cpu"))
    return task


def _params(task: VitsTask) -> dict[str, torch.Tensor]:
    return {f"{p}.{k}": v.detach().clone() for p, m in (("G", task.G), ("D", task.D))
            for k, v in m.named_parameters()}


@pytest.mark.parametrize("parts", [1, 2])
def test_step_as_micro_batches_trains_on_the_same_segments(root: Path, tmp_path: Path,
                                                            parts: int) -> None:
    task = _task(root, tmp_path / "run")
    seen: list[torch.Tensor] = []
    forward = task.G.forward

    def spy(*args: Any, **kw: Any) -> Any:
        out = forward(*args, **kw)
        seen.append(out.ids_slice.clone())  # where the random window starts
        return out

    task.G.forward = spy  # type: ignore[method-assign]
    before = _params(task)
    out = task.train_step(task.split(task.collate([0, 1, 2, 3]), parts), _amp())
    assert all(math.isfinite(out[k]) for k in ("loss_d", "loss_g", "loss_mel", "loss_dur"))
    after = _params(task)
    for part in ("G", "D"):
        moved = [k for k in before if k.startswith(part) and not torch.equal(before[k], after[k])]
        assert len(moved) > 10, f"{part} parameters did not move"
    if parts == 1:
        assert len(seen) == 1  # the D half's generator graph is reused by the G half
    else:  # G half replays each micro-batch from its RNG state: the very same windows
        assert [len(s) for s in seen] == [2, 2, 2, 2]
        assert torch.equal(seen[0], seen[2]) and torch.equal(seen[1], seen[3])


def test_out_of_memory_in_the_generator_half_splits_the_step(root: Path,
                                                             tmp_path: Path) -> None:
    task = _task(root, tmp_path / "run")
    g_loss = task._g_loss

    def tight(y: torch.Tensor, *rest: Any) -> Any:
        if y.shape[0] > 1:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated in the G half)")
        return g_loss(y, *rest)

    task._g_loss = tight  # type: ignore[method-assign]
    logs: list[tuple[str, str]] = []
    engine = Engine(EngineConfig(run_dir=tmp_path / "run", epochs=1, batch_size=2,
                                 device="cpu"), task,
                    TrainHooks(on_log=lambda m, lvl: logs.append((lvl, m))))
    engine.prepare()
    record = engine.train_batch(next(engine.sampler.batches()))  # type: ignore[union-attr]
    assert engine.micro_batches == 2 and record["samples"] == 2
    assert all(math.isfinite(record[k]) for k in ("loss_d", "loss_mel", "grad_norm_d"))
    assert {int(s["step"]) for s in task.opt_d.state.values()} == {1}
    assert {int(s["step"]) for s in task.opt_g.state.values()} == {1}
    assert [lvl for lvl, _ in logs] == ["warning"] and "2 micro-batches" in logs[0][1]


def test_speakers_from_the_labels_and_samples_leave_training_random(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    proj = labelled_copy(tmp_path_factory, tmp_path / "two speakers")
    renamed = {r["id"] for r in store.load(proj).rows[::2]}

    def relabel(doc: store.LabelsDoc) -> None:
        for row in doc.rows:
            row["speaker"] = "Kal" if row["id"] in renamed else "Sally"

    store.update(proj, relabel)
    task = _task(proj, tmp_path / "run")
    assert task.cfg.speakers == {"Kal": 0, "Sally": 1}
    assert task.G.emb_g.weight.shape == (2, task.model_cfg.gin_channels)
    assert sorted({u.sid for u in task.data.train + task.data.validation}) == [0, 1]
    out = task.train_step([task.collate([0, 1])], _amp())
    assert math.isfinite(out["loss_g"])
    inputs = task.sample_inputs()
    assert [(text, sid) for text, _, sid in inputs] == [
        (s, i) for i, s in enumerate(SAMPLE_SENTENCES["en"])]
    state = torch.get_rng_state()
    wav = task.render_sample(tmp_path / "samples" / "step_000000001.wav")
    assert wav is not None and sf.info(wav).samplerate == 22050
    assert torch.equal(torch.get_rng_state(), state), "a sample must not move training RNG"


def test_bases_load_into_the_task_with_their_report(root: Path, tmp_path: Path) -> None:
    src = _task(root, tmp_path / "source")
    with torch.no_grad():
        for p in [*src.G.parameters(), *src.D.parameters()]:
            p.add_(0.01)  # not what a fresh model starts with
    bases = tmp_path / "bases – é"
    bases.mkdir()
    for part, model in (("G", src.G), ("D", src.D)):
        torch.save({"model": model.state_dict(), "iteration": 3, "optimizer": {},
                    "learning_rate": 2e-4}, bases / f"{part}_3.pth")
    logs: list[tuple[str, str]] = []
    task = VitsTask(vits_config(root), root, tmp_path / "run", pretrained_g=bases / "G_3.pth",
                    pretrained_d=bases / "D_3.pth", log=lambda m, lvl: logs.append((lvl, m)))
    task.setup(torch.device("cpu"))
    used = sorted(symbol_ids(task.cfg.symbols).values())  # a symbol listed twice: its last id
    for part in ("G", "D"):
        want = getattr(src, part).state_dict()
        for key, value in getattr(task, part).state_dict().items():
            got, ref = (value[used], want[key][used]) if key == "enc_p.emb.weight" else \
                (value, want[key])
            torch.testing.assert_close(got, ref, rtol=0, atol=0, msg=f"{part}.{key}")
    said = [m for _, m in logs]
    assert any(m.startswith("G_3.pth: loaded") for m in said), said
    assert any(m.startswith("D_3.pth: loaded") for m in said), said
