"""The ``extract`` job end to end: real espeak-ng speech prepared by the real prepare code, a
tiny random HuBERT in the ``hubert_base.pt`` format, the CLI and the server as processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import soundfile as sf

from backend.commands import project as project_commands
from backend.features import store
from backend.features.f0 import PITCH_RULES, F0Extractor, coarse_f0
from backend.jobs import extract
from backend.kernel import JobContext
from tests.backend.backend_proc import BackendProcess
from tests.features.tiny_models import FINAL, HIDDEN, save_tiny_fairseq_hubert, save_tiny_rmvpe
from tests.features.tone_project import copy_project
from tests.project.helpers import ROOT, long_speech, run_cli, speech

RMVPE_SIZE = 181184272


# ------------------------------------------------------------------ fixtures and helpers
def _prepare(tmp: Path, name: str, sources: list[Path]) -> Path:
    project = tmp / name
    code, summary, err = run_cli("prepare", *map(str, sources), "--project", str(project))
    assert code == 0, err
    assert summary["result"]["slices"] >= len(sources), summary
    return project


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("extract") / "Stimme ü 声 data"
    data = tmp / "aufnahmen"
    small = [speech(data, f"s{i} ä.wav", i, pitch=40 + 10 * i) for i in range(3)]
    long_src = long_speech(speech(data, "long.wav", 3), data / "long take.wav", 100.0)
    return {
        "small": _prepare(tmp, "Projekt klein ü 声", small),  # a few short clips
        "big": _prepare(tmp, "Projekt groß 声", [long_src]),  # about 27 clips
        "encoder": save_tiny_fairseq_hubert(tmp / "enc ö" / "hubert_base.pt"),
        "empty_data": tmp / "data dir (empty)",
    }


def _clips(project: Path) -> dict[str, Path]:
    manifest = json.loads((project / "prepared" / "manifest.json").read_text("utf-8"))
    return {Path(s["path_16k"]).stem: project / s["path_16k"]
            for e in manifest["sources"].values() for s in e["slices"]}


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONUTF8": "1", "TIMBRE_DATA_DIR": str(data_dir)}


def _cli(data_dir: Path, *args: str) -> tuple[int, dict, str]:
    proc = subprocess.run([sys.executable, "-m", "backend", "extract", *args, "--json"],
                          cwd=ROOT, env=_env(data_dir), capture_output=True, text=True,
                          timeout=120)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return proc.returncode, json.loads(lines[-1]) if lines else {}, proc.stderr


def _run_inprocess(**args: object) -> dict:
    events: list[tuple[str, dict]] = []
    params = extract.prepare({"device": "cpu", "workers": 1, **args})
    return extract.run(params, JobContext("t", "extract", lambda e, d: events.append((e, d))))


def _load_entry(project: Path, entry: dict) -> dict[str, np.ndarray]:
    out = {}
    for key in ("f0", "f0_coarse", "content"):
        assert not Path(entry[key]).is_absolute() and "\\" not in entry[key], entry[key]
        out[key] = np.load(project / entry[key], allow_pickle=False)
    return out


def _check_features(project: Path, version: str = "v2", dim: int = HIDDEN) -> dict:
    """Every clip has complete features in the documented layout; returns the manifest."""
    manifest = store.load_manifest(project)
    clips = _clips(project)
    assert set(manifest["slices"]) == set(clips)
    for stem, wav in clips.items():
        n = sf.info(wav).frames
        entry = manifest["slices"][stem]
        arrays = _load_entry(project, entry)
        f0, coarse, content = arrays["f0"], arrays["f0_coarse"], arrays["content"]
        assert entry["content"] == f"features/content_{version}/{stem}.npy"
        assert f0.dtype == np.float32 and f0.shape == (n // 160 + 1,) == (entry["frames"],)
        assert coarse.dtype == np.uint8 and coarse.shape == f0.shape
        assert coarse.min() >= 1 and coarse.max() <= 255
        assert np.array_equal(coarse, coarse_f0(f0))
        assert content.dtype == np.float32
        assert content.shape == ((n - 400) // 320 + 1, dim)
        assert np.isfinite(content).all() and content.std() > 0
        voiced = f0[f0 > 0]
        assert voiced.size / f0.size > 0.3 and 50 < np.median(voiced) < 300  # espeak's voice
    return manifest


# ------------------------------------------------------------------------------- tests
def test_cli_layout_incremental_versions(base: dict[str, Path], tmp_path: Path) -> None:
    project = copy_project(base["small"], tmp_path)
    enc = str(base["encoder"])
    code, summary, err = _cli(base["empty_data"], "--project", str(project), "--f0", "pm",
                              "--encoder", enc, "--device", "cpu")
    assert code == 0, err
    res = summary["result"]
    n = len(_clips(project))
    assert (res["slices"], res["processed"], res["skipped"], res["errors"]) == (n, n, 0, [])
    assert res["f0_method"] == "pm" and res["version"] == "v2" and res["audio_seconds"] > 5
    assert res["features_dir"] == str(project / "features")
    manifest = _check_features(project)
    assert store.ready_slices(project, "v2").keys() == manifest["slices"].keys()

    code, summary, err = _cli(base["empty_data"], "--project", str(project), "--f0", "pm",
                              "--encoder", enc, "--device", "cpu")
    assert code == 0, err
    assert (summary["result"]["processed"], summary["result"]["skipped"]) == (0, n)

    # in process from here on (same job code, no start-up cost): touch one clip
    stem, wav = sorted(_clips(project).items())[1]
    before = {s: (project / e["content"]).stat().st_mtime_ns
              for s, e in store.load_manifest(project)["slices"].items()}
    st = wav.stat()
    os.utime(wav, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    res = _run_inprocess(project=str(project), f0="pm", encoder=enc)
    assert (res["processed"], res["skipped"]) == (1, n - 1)
    after = {s: (project / e["content"]).stat().st_mtime_ns
             for s, e in store.load_manifest(project)["slices"].items()}
    assert [s for s in before if before[s] != after[s]] == [stem]

    res = _run_inprocess(project=str(project), f0="dio", encoder=enc)  # new pitch method
    assert (res["processed"], res["skipped"], res["f0_method"]) == (n, 0, "dio")
    save_tiny_fairseq_hubert(base["encoder"].parent / "other" / "hubert_base.pt", seed=7)
    shutil.copy2(base["encoder"].parent / "other" / "hubert_base.pt", tmp_path / "hubert_base.pt")
    res = _run_inprocess(project=str(project), f0="dio", encoder=str(tmp_path / "hubert_base.pt"))
    assert res["processed"] == n  # another encoder file with the same name: extracted again

    res = _run_inprocess(project=str(project), f0="pm", encoder=enc, version="v1")
    assert (res["processed"], res["version"]) == (n, "v1")
    _check_features(project, "v1", FINAL)
    assert store.ready_slices(project, "v1").keys() == set(_clips(project))
    assert store.ready_slices(project, "v2") == {}  # the manifest describes v1 now


def test_missing_assets_cli_and_server(base: dict[str, Path]) -> None:
    empty = base["empty_data"]
    project = str(base["small"])
    wanted = {"rmvpe": ("about 181 MB", "181 MB", RMVPE_SIZE),
              "hubert-base": ("", "190 MB", 189507909)}
    runs = {"rmvpe": ["--f0", "rmvpe", "--encoder", str(base["encoder"])],
            "hubert-base": ["--f0", "pm", "--encoder", "hubert-base"]}
    for name, args in runs.items():
        code, summary, err = _cli(empty, "--project", project, "--device", "cpu", *args)
        assert code != 0 and summary["status"] == "failed", summary
        error = summary["error"]
        assert error["code"] == "asset_missing"
        assert name in error["message"] and wanted[name][1] in error["message"]
        assert f"python -m backend assets download {name}" in error["message"]
        assert f"python -m backend assets download {name}" in err
        assert not (base["small"] / "features").exists()

    server = BackendProcess(env={"TIMBRE_DATA_DIR": str(empty)})
    try:
        for name, args in runs.items():
            job_args = {"project": project, "device": "cpu", "f0": args[1], "encoder": args[3]}
            rid = server.send("job.start", kind="extract", args=job_args)
            reply = server.reply(rid)
            assert reply["type"] == "error", reply
            error = reply["error"]
            assert error["code"] == "asset_missing" and name in error["message"]
            details = error["details"]
            assert details["name"] == name and details["size"] == wanted[name][2]
            assert details["download_command"] == f"python -m backend assets download {name}"
    finally:
        server.close()


def _pool_workers(pid: int) -> list[int]:
    """Pool worker processes of ``pid`` (not multiprocessing's resource tracker)."""
    return [c.pid for c in psutil.Process(pid).children(recursive=True)
            if "spawn_main" in " ".join(c.cmdline())]


def _wait_children_gone(pids: list[int], timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p)
                 and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


def test_server_cancel_with_two_workers(base: dict[str, Path], tmp_path: Path) -> None:
    project = copy_project(base["big"], tmp_path)
    server = BackendProcess(env={"TIMBRE_DATA_DIR": str(base["empty_data"])})
    try:
        rid = server.send("job.start", kind="extract", args={
            "project": str(project), "f0": "harvest", "encoder": str(base["encoder"]),
            "device": "cpu", "workers": 2})
        reply = server.reply(rid)
        assert reply["type"] == "result", reply
        job_id = reply["result"]["job_id"]
        progress = server.wait_for(lambda m: m.get("event") == "job.progress"
                                   and m["data"]["job_id"] == job_id
                                   and m["data"]["done"] >= 1, timeout=60)
        total = progress["data"]["total"]
        workers = _pool_workers(server.proc.pid)
        assert len(workers) == 2, workers
        t0 = time.monotonic()
        server.send("job.cancel", job_id=job_id)
        done = server.event("job.finished", job_id=job_id, timeout=10)
        assert done["data"]["status"] == "cancelled", done
        assert done["_t"] - t0 < 1.5, done["_t"] - t0
        assert _wait_children_gone(workers) == []
        manifest = store.load_manifest(project)
        assert 1 <= len(manifest["slices"]) < total  # what finished is kept, and only that
        for entry in manifest["slices"].values():
            _load_entry(project, entry)
    finally:
        server.close()


def test_kill_cli_midway_then_rerun_equals_clean_run(base: dict[str, Path],
                                                     tmp_path: Path) -> None:
    killed = copy_project(base["big"], tmp_path / "a")
    clean = copy_project(base["big"], tmp_path / "b")
    args = ["--f0", "pm", "--encoder", str(base["encoder"]), "--device", "cpu", "--workers", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "backend", "extract", "--project",
                             str(killed), *args], cwd=ROOT, env=_env(base["empty_data"]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    seen: dict = {}
    while not seen and proc.poll() is None and time.monotonic() < deadline:
        seen = store.load_manifest(killed)["slices"]  # atomic: always a whole file
        time.sleep(0.02)
    workers = _pool_workers(proc.pid)
    proc.send_signal(signal.SIGKILL)
    killed_at = time.time()
    proc.wait()
    assert seen, "the job ended before any clip was recorded"
    total = len(_clips(killed))
    manifest = store.load_manifest(killed)
    assert 1 <= len(manifest["slices"]) < total, "the kill came too late to test anything"
    for entry in manifest["slices"].values():
        _load_entry(killed, entry)
    assert _wait_children_gone(workers) == []  # no orphaned workers
    late = [p.name for p in (killed / "features").rglob("*.npy")
            if p.stat().st_mtime > killed_at + 0.3]
    assert late == [], f"workers went on after the kill: {late}"  # queued or in flight

    code, summary, err = _cli(base["empty_data"], "--project", str(killed), *args)
    assert code == 0, err
    assert summary["result"]["processed"] == total - len(manifest["slices"])
    clean_res = _run_inprocess(project=str(clean), f0="pm", encoder=str(base["encoder"]))
    assert clean_res["processed"] == total
    a, b = _check_features(killed), _check_features(clean)
    assert a["slices"].keys() == b["slices"].keys()
    for stem in a["slices"]:
        x, y = _load_entry(killed, a["slices"][stem]), _load_entry(clean, b["slices"][stem])
        assert np.array_equal(x["f0"], y["f0"]) and np.array_equal(x["f0_coarse"], y["f0_coarse"])
        np.testing.assert_allclose(x["content"], y["content"], rtol=0, atol=1e-5)
    assert len(workers) == 2
    # temporary files of writes the kill interrupted are swept by the next run
    assert not [p for p in (killed / "features").rglob(".tmp-*")]


def test_rmvpe_with_installed_random_weights(base: dict[str, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "daten ü"
    save_tiny_rmvpe(data / "assets" / "rmvpe" / "rmvpe.pt")
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(data))
    project = copy_project(base["small"], tmp_path)
    res = _run_inprocess(project=str(project), f0="rmvpe", encoder=str(base["encoder"]))
    n = len(_clips(project))
    assert (res["processed"], res["errors"], res["f0_method"]) == (n, [], "rmvpe")
    extractor = F0Extractor(rmvpe_path=data / "assets" / "rmvpe" / "rmvpe.pt")
    for stem, wav in _clips(project).items():
        f0 = np.load(project / "features" / "f0" / f"{stem}.npy")
        assert f0.dtype == np.float32 and f0.shape == (sf.info(wav).frames // 160 + 1,)
        assert np.isfinite(f0).all() and (f0 >= 0).all()
        # training features follow conversion's rules: RMVPE's raw track, no range clipping
        audio, _ = sf.read(wav, dtype="float32")
        np.testing.assert_allclose(f0, extractor.extract(audio, "rmvpe"), rtol=1e-4)
    assert store.load_manifest(project)["settings"]["pitch_rules"] == PITCH_RULES


def test_features_of_older_pitch_rules_still_train_and_are_named(base: dict[str, Path],
                                                                 tmp_path: Path) -> None:
    project = copy_project(base["small"], tmp_path)
    enc = str(base["encoder"])
    n = len(_clips(project))
    res = _run_inprocess(project=str(project), f0="harvest", encoder=enc)
    assert res["pitch_rules"] == PITCH_RULES and res["processed"] == n
    assert project_commands.extract_settings({"path": str(project)}, None)["pitch_note"] is None
    # a project extracted before the rules were recorded: its manifest has no pitch_rules
    # (and clip signatures made from settings without it)
    manifest = store.load_manifest(project)
    del manifest["settings"]["pitch_rules"]
    identity = {**manifest["settings"], "encoder_id": extract._file_id(Path(enc))}
    for stem, wav in _clips(project).items():
        manifest["slices"][stem]["signature"] = store.slice_signature(wav, identity)
    store.save_manifest(project, manifest)
    note = project_commands.extract_settings({"path": str(project)}, None)["pitch_note"]
    assert note == store.OLD_PITCH_RULES_NOTE and "Extract again" in note and "RVC" in note
    assert project_commands.open_({"path": str(project)}, None)["summary"]["pitch_note"] == note
    assert store.ready_slices(project, "v2").keys() == set(_clips(project))  # still trains
    res = _run_inprocess(project=str(project), f0="harvest", encoder=enc)
    assert res["processed"] == n  # extracting again makes every clip under the new rules
    assert project_commands.open_({"path": str(project)}, None)["summary"]["pitch_note"] is None


def test_unreadable_clip_is_named_others_processed(base: dict[str, Path],
                                                   tmp_path: Path) -> None:
    project = copy_project(base["small"], tmp_path)
    clips = _clips(project)
    bad_stem, bad = sorted(clips.items())[0]
    bad.write_bytes(b"RIFF\x00\x00 this is not a wav file any more")
    res = _run_inprocess(project=str(project), f0="pm", encoder=str(base["encoder"]))
    assert res["processed"] == len(clips) - 1
    assert [e["slice"] for e in res["errors"]] == [bad_stem]
    assert bad.name in res["errors"][0]["message"]
    assert bad_stem not in store.load_manifest(project)["slices"]
    res = _run_inprocess(project=str(project), f0="pm", encoder=str(base["encoder"]))
    assert (res["processed"], res["skipped"], len(res["errors"])) == (0, len(clips) - 1, 1)
