"""The transcribe job: real pocketsphinx on festival speech in prepared projects.

Incremental reruns, the user's text never overwritten (also when typed while the job runs),
cancel and SIGKILL mid-run losing nothing, rows without a prepared clip read from the
recording, a project path with spaces and Chinese characters, and --cut-long."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.dataset import project as proj
from backend.jobs import transcribe as transcribe_job
from backend.kernel import BadArgs, JobCancelled
from backend.labels import ops, rows, store
from backend.transcribe.record import LOW_CONFIDENCE
from tests.project.helpers import ROOT, run_cli
from tests.transcribe.job_helpers import (
    copy_project,
    import_recordings,
    labels,
    long_recording,
    prepare,
    said_in,
    sentence_files,
    transcribe,
    word_hits,
)

MODEL = "pocketsphinx:en-us"


SPANS: list[tuple[float, float, str]] = []  # where each sentence is in the recording


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with one recording of four sentences, prepared into four clips."""
    d = tmp_path_factory.mktemp("speech")
    files = sentence_files(d / "sentences", 4)
    SPANS[:] = long_recording(d / "four sentences.wav", files, 12.5, pause=0.8)
    root = d / "template"
    prepare(root, [d / "four sentences.wav"])
    assert len(_slices(root)) == 4, "the recording should prepare into one clip a sentence"
    return root


@pytest.fixture
def project(prepared: Path, tmp_path: Path) -> Path:
    return copy_project(prepared, tmp_path / "voice")


def said(row: dict) -> str:
    return said_in(SPANS, row["start"], row["end"])


def user_types(project: Path, rid: str, text: str) -> None:
    """What labels.apply does for the table: a set op through the one locked update."""
    store.update(project, lambda doc: ops.apply(doc, {"kind": "set", "ids": [rid],
                                                      "fields": {"text": text}}))


def synced_ids(project: Path) -> list[str]:
    p = proj.open_project(project)
    store.update(project, lambda doc: rows.sync(doc, p))
    return [r["id"] for r in store.load(project).rows]


def test_transcribes_every_clip_then_skips_them(project: Path) -> None:
    ids = synced_ids(project)
    mine, theirs = ids[1], ids[3]
    user_types(project, mine, "My own words.")
    store.update(project, lambda doc: ops.edit_rows(doc, "import a list", {  # as an import does
        theirs: {"text": "From another tool.", "origin": "imported"}}))
    events: list[tuple[str, dict]] = []
    res = transcribe(project, events, cut_long=5)  # a recording with the user's text: not cut
    (refused,) = res["failed"]
    assert refused["id"] is None and f"row {mine} holds text you typed" in refused["message"]
    assert (res["transcribed"], res["skipped"]) == (2, 2)
    assert res["engine"] == MODEL and res["cut_sources"] == []
    assert store.load(project).cut_sources == []
    doc = labels(project)
    assert doc["revision"] == res["revision"]
    for row in doc["rows"]:
        if row["id"] in (mine, theirs):
            assert (row["text"], row["origin"], row["engine"]) in [
                ("My own words.", "edited", None), ("From another tool.", "imported", None)]
            continue
        assert row["origin"] == "transcribed" and row["engine"] == MODEL
        assert row["language"] == "en" and 0 < row["confidence"] <= 1
        assert word_hits(said(row), row["text"]) >= 0.5, row["text"]
        assert row["flag"] == ("low_confidence" if row["confidence"] < LOW_CONFIDENCE
                               else None)
        assert [w[0] for w in row["words"]] == row["text"].split()
        for _, a, b, p in row["words"]:  # seconds of the recording, inside the clip
            assert row["start"] - 0.01 <= a < b <= row["end"] + 0.01 and 0 <= p <= 1
    assert res["flagged"] == sum(1 for r in doc["rows"] if r["flag"])
    # a labels.changed after every save, the last one with the file's revision
    changed = [d for e, d in events if e == "labels.changed"]
    assert changed and changed[-1]["revision"] == doc["revision"]
    assert all(d["project"] == str(project) for d in changed)
    assert [d["revision"] for d in changed] == sorted({d["revision"] for d in changed})
    progress = [d for e, d in events if e == "job.progress"]
    assert {d["stage"] for d in progress} == {"loading the model", "transcribing"}
    progress = [d for d in progress if d["stage"] == "transcribing"]
    assert progress[-1]["done"] == progress[-1]["total"] == pytest.approx(res["seconds"],
                                                                          abs=0.02)
    # progress names the recording and the span the user knows, not the hashed clip file
    spans = {f"four sentences.wav {s['start']:.2f}-{s['end']:.2f} s" for s in _slices(project)}
    assert {d["detail"] for d in progress if d.get("detail")} <= spans

    before = (project / "labels.json").read_bytes()
    again = transcribe(project)
    assert (again["transcribed"], again["skipped"], again["seconds"]) == (0, 4, 0.0)
    assert again["failed"] == []  # no cut asked for this time
    assert (project / "labels.json").read_bytes() == before  # nothing rewritten

    redo = transcribe(project, redo=True)  # every row again, except the user's
    assert (redo["transcribed"], redo["skipped"]) == (2, 2)
    assert store.load(project).row(mine)["text"] == "My own words."
    assert store.load(project).row(theirs)["text"] == "From another tool."


def _slices(project: Path) -> list[dict]:
    manifest = json.loads((project / "prepared" / "manifest.json").read_text("utf-8"))
    return [s for e in manifest["sources"].values() for s in e["slices"]]


def test_text_typed_while_the_job_runs_is_kept(project: Path) -> None:
    ids = synced_ids(project)
    typed: list[str] = []

    def on_event(event: str, data: dict) -> None:
        done = [r for r in store.load(project).rows if r["origin"] == "transcribed"]
        if event == "labels.changed" and done and not typed:
            last = next(r for r in store.load(project).rows if r["origin"] == "none")
            user_types(project, last["id"], "Typed meanwhile.")  # the job planned this row
            typed.append(last["id"])

    res = transcribe(project, ctx=_ctx(on_event))
    assert typed and (res["transcribed"], res["skipped"]) == (3, 1)
    doc = store.load(project)
    assert doc.row(typed[0])["text"] == "Typed meanwhile."
    assert doc.row(typed[0])["origin"] == "edited"
    assert sum(1 for rid in ids if doc.row(rid)["origin"] == "transcribed") == 3


def _ctx(fn):
    from backend.kernel import JobContext

    return JobContext("t", "transcribe", fn)


def test_cancel_keeps_the_finished_clips(project: Path) -> None:
    holder: dict = {}

    def on_event(event: str, data: dict) -> None:
        if event == "labels.changed" and any(r["origin"] == "transcribed"
                                             for r in store.load(project).rows):
            holder["ctx"].cancel()

    holder["ctx"] = _ctx(on_event)
    with pytest.raises(JobCancelled):
        transcribe(project, ctx=holder["ctx"])
    done = {r["id"]: r["text"] for r in store.load(project).rows if r["origin"] == "transcribed"}
    assert len(done) == 1  # saved after the first clip; the one in flight is dropped
    res = transcribe(project)
    assert (res["transcribed"], res["skipped"]) == (3, 1)
    doc = store.load(project)
    assert all(r["origin"] == "transcribed" for r in doc.rows)
    assert all(doc.row(rid)["text"] == text for rid, text in done.items())


def test_rows_without_a_clip_are_read_from_the_recording(project: Path) -> None:
    ids = synced_ids(project)
    row = store.load(project).row(ids[0])
    at = round((row["start"] + row["end"]) / 2, 3)
    store.update(project, lambda doc: ops.apply(doc, {"kind": "split", "id": ids[0], "at": at}))
    events: list[tuple[str, dict]] = []
    res = transcribe(project, events)
    assert (res["transcribed"], res["skipped"], res["failed"]) == (5, 0, [])
    doc = store.load(project)
    halves = [r for r in doc.rows if row["start"] <= r["start"] < row["end"]]
    assert [(h["start"], h["end"]) for h in halves] == [(row["start"], at), (at, row["end"])]
    heard = " ".join(h["text"] for h in halves)
    assert word_hits(said(row), heard) >= 0.5, heard
    for h in halves:  # words in seconds of the recording, inside each half
        assert all(h["start"] - 0.01 <= a < b <= h["end"] + 0.01 for _, a, b, _p in h["words"])
    details = {d.get("detail") for e, d in events if e == "job.progress"}
    assert any(d and d.startswith("four sentences.wav ") and d.endswith(" s")
               for d in details), details


def test_killed_cli_then_rerun_loses_nothing(prepared: Path, unicode_dir: Path) -> None:
    """SIGKILL of the CLI process mid-run in a project whose path (and its recording's)
    has spaces and Chinese characters; the rerun finishes and every saved text is still
    there. Eight clips, so the run goes on for a while after its first save."""
    audio, rate = sf.read(prepared.parent / "four sentences.wav", dtype="float32")
    recording = unicode_dir / "八个 句子.wav"
    sf.write(recording, np.concatenate([audio, audio]), rate)
    project = unicode_dir / "我的 声音 project"
    prepare(project, [recording])
    ids = synced_ids(project)
    assert len(ids) >= 7
    mine = ids[0]
    user_types(project, mine, "Mine, not the engine's.")
    env = {**os.environ, "PYTHONUTF8": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "backend", "transcribe", "--project",
                             str(project), "--json"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        done = _wait_for_transcribed(project, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    after_kill = store.load(project)  # whole and readable
    assert all(after_kill.row(rid)["text"] == text for rid, text in done.items())
    done = {r["id"]: r["text"] for r in after_kill.rows if r["origin"] == "transcribed"}
    assert 1 <= len(done) < len(ids) - 1, "the job finished before it could be killed"

    code, summary, err = run_cli("transcribe", "--project", str(project))
    assert code == 0, err
    res = summary["result"]
    assert res["transcribed"] == len(ids) - 1 - len(done) and res["skipped"] == 1 + len(done)
    doc = store.load(project)
    assert doc.row(mine)["text"] == "Mine, not the engine's."
    assert all(doc.row(rid)["text"] == text for rid, text in done.items())
    assert all(r["origin"] == "transcribed" for r in doc.rows if r["id"] != mine)


def _wait_for_transcribed(project: Path, proc: subprocess.Popen,
                          timeout: float = 90) -> dict[str, str]:
    """The rows transcribed, as soon as the running CLI has saved the first one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = proc.poll() is None
        doc = store.load(project)  # never damaged: it is replaced atomically
        done = {r["id"]: r["text"] for r in doc.rows if r["origin"] == "transcribed"}
        if done or not running:
            assert running, (f"the CLI ended (exit {proc.returncode}) before it could be "
                             f"killed, {len(done)} rows done: {proc.stderr.read().decode()}")
            return done
        time.sleep(0.02)
    raise AssertionError("no clip was saved in 90 s")


def test_cut_long_cuts_at_words_and_prepare_writes_those_clips(tmp_path: Path) -> None:
    files = sentence_files(tmp_path / "sentences", 10)
    spans = long_recording(tmp_path / "long take.wav", files, 30.0)
    root = tmp_path / "long"
    import_recordings(root, [tmp_path / "long take.wav"])  # not prepared: nothing to slice
    res = transcribe(root, cut_long=20)
    sid = proj.open_project(root).load_sources()[0]["id"]
    assert res["cut_sources"] == [sid] and res["failed"] == []
    doc = store.load(root)
    assert doc.cut_sources == [sid]
    cut = [r for r in doc.rows if not r["stale"]]
    assert res["transcribed"] == len(cut) >= 3
    words = [w for r in cut for w in r["words"]]
    prev_end = 0.0
    for r in cut:
        assert r["origin"] == "transcribed" and r["engine"] == MODEL
        assert r["start"] >= prev_end - 1e-6 and r["end"] - r["start"] <= 12.0 + 1e-6
        prev_end = r["end"]
        assert [w[0] for w in r["words"]] == r["text"].split()
        for w in words:  # no cut inside a word
            assert not (w[1] < r["start"] < w[2] - 1e-6 or w[1] + 1e-6 < r["end"] < w[2])
    assert sum(len(r["words"]) for r in cut) == len(words)
    heard = " ".join(r["text"] for r in cut)
    assert word_hits(" ".join(t for _, _, t in spans), heard) >= 0.5, heard
    # the pauses between the sentences are the cuts: no sentence is cut in two
    full = [(a, b) for a, b, _ in spans if b < 30.0]
    whole = [any(r["start"] <= a + 0.2 and b - 0.2 <= r["end"] for r in cut) for a, b in full]
    assert sum(whole) >= len(full) - 1 and len(cut) >= len(full) - 1, (full, cut)

    prepare(root)  # the next prepare writes exactly those clips
    clips = sorted(x for s in _slices(root) for x in (s["start"], s["end"]))
    assert clips == pytest.approx(sorted(x for r in cut for x in (r["start"], r["end"])),
                                  abs=0.002)
    again = transcribe(root, cut_long=20)  # cut already: nothing to do
    assert (again["transcribed"], again["skipped"], again["cut_sources"]) == (0, len(cut), [])
    assert store.load(root).rows == doc.rows


def test_bad_requests_are_named(project: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    proj.create_project(bare)
    with pytest.raises(BadArgs, match="no prepared clips: run Prepare first"):
        transcribe_job.prepare({"project": str(bare)})
    with pytest.raises(BadArgs, match="unknown transcription engine 'kaldi'.*pocketsphinx"):
        transcribe_job.prepare({"project": str(project), "engine": "kaldi"})
    with pytest.raises(BadArgs, match="pocketsphinx.*'zh'"):
        transcribe_job.prepare({"project": str(project), "language": "zh"})
    with pytest.raises(BadArgs, match="language code"):
        transcribe_job.prepare({"project": str(project), "language": "English please"})
    with pytest.raises(BadArgs, match="cut_long"):
        transcribe_job.prepare({"project": str(project), "cut_long": "long"})
    with pytest.raises(BadArgs, match="unknown device .tpu.; use auto, cpu, cuda"):
        transcribe_job.prepare({"project": str(project), "device": "tpu"})
    (project / "labels.json").write_text("{not json", "utf-8")
    with pytest.raises(BadArgs, match="labels.json"):
        transcribe_job.prepare({"project": str(project)})
    assert (project / "labels.json").read_text("utf-8") == "{not json"  # left for the user


def test_cli_arguments_reach_the_job() -> None:
    parser = argparse.ArgumentParser()
    transcribe_job.add_cli_arguments(parser)
    ns = parser.parse_args(["--project", "p q", "--engine", "faster-whisper", "--language",
                            "zh", "--model", "small", "--device", "cpu", "--redo",
                            "--cut-long", "30"])
    assert transcribe_job.args_from_cli(ns) == {
        "project": "p q", "engine": "faster-whisper", "language": "zh", "model": "small",
        "device": "cpu", "redo": True, "cut_long": 30.0}
    defaults = transcribe_job.args_from_cli(parser.parse_args(["--project", "p"]))
    assert defaults["engine"] == "pocketsphinx" and defaults["device"] == "auto"
    assert not defaults["redo"] and defaults["cut_long"] is None


def test_faster_whisper_path_end_to_end(project: Path, tiny_whisper: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The tiny random-weight model says nothing sensible, but every row goes through the
    loading, decoding and recording code; a rerun with the same model skips them all."""
    from backend.transcribe import whisper

    # greedy decoding: random weights would run the whole temperature ladder on every clip
    fast = whisper.DecodeOptions(beam_size=1, temperatures=(0.0,))
    monkeypatch.setattr(whisper, "DecodeOptions", lambda: fast)
    res = transcribe(project, engine="faster-whisper", model=str(tiny_whisper), device="cpu")
    model_id = res["engine"]
    assert model_id.startswith("faster-whisper:") and res["failed"] == []
    assert res["transcribed"] == 4 and res["skipped"] == 0
    for row in store.load(project).rows:
        assert row["origin"] == "transcribed" and row["engine"] == model_id
        if not row["text"]:
            assert row["flag"] == "empty" and row["confidence"] is None
        elif row["confidence"] < LOW_CONFIDENCE:
            assert row["flag"] == "low_confidence"
        for _, a, b, _p in row["words"] or []:
            assert row["start"] - 0.01 <= a <= b <= row["end"] + 0.01
    again = transcribe(project, engine="faster-whisper", model=str(tiny_whisper),
                       device="cpu")
    assert (again["transcribed"], again["skipped"]) == (0, 4)


def test_checking_a_request_loads_no_model(project: Path, tiny_whisper: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """``prepare`` runs on the server's reader thread: it resolves the model's files but
    leaves the (seconds-long) load to ``run``, so the backend keeps answering meanwhile."""
    from backend.transcribe import whisper

    def no_load(*_a: object, **_k: object) -> None:
        raise AssertionError("prepare loaded the model")

    monkeypatch.setattr(whisper, "load_model", no_load)
    params = transcribe_job.prepare({"project": str(project), "engine": "faster-whisper",
                                     "model": str(tiny_whisper), "device": "cpu"})
    assert params.engine is None and params.model == str(tiny_whisper)
    with pytest.raises(BadArgs, match="not a complete faster-whisper model folder"):
        transcribe_job.prepare({"project": str(project), "engine": "faster-whisper",
                                "model": str(tiny_whisper.parent)})


def test_a_missing_whisper_model_says_how_to_get_it(project: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.assets.store import MissingAsset

    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "no assets"))
    with pytest.raises(MissingAsset, match="assets download whisper-small"):
        transcribe_job.prepare({"project": str(project), "engine": "faster-whisper",
                                "model": "small"})
    assert not (project / "labels.json").exists()  # nothing written


def test_through_the_server_with_an_edit_while_it_runs(project: Path) -> None:
    """job.start over the protocol: labels.changed events, the app's own table edit sent
    while the job runs is accepted (not busy) and kept, job.finished carries the summary."""
    from tests.backend.backend_proc import BackendProcess

    backend = BackendProcess()
    try:
        backend.wait_for(lambda m: m["type"] == "hello")
        before = backend.reply(backend.send("labels.get", project=str(project)))["result"]
        last = before["rows"][-1]["id"]  # the job's last row
        rid = backend.send("job.start", kind="transcribe", args={"project": str(project)})
        job_id = backend.reply(rid)["result"]["job_id"]
        first = backend.event("labels.changed", timeout=60, job_id=job_id)
        assert first["data"]["project"] == str(project)
        edit = backend.reply(backend.send("labels.apply", project=str(project), op={
            "kind": "set", "ids": [last], "fields": {"text": "Typed in the app."}}))
        assert edit["type"] == "result", edit
        done = backend.event("job.finished", timeout=90, job_id=job_id)["data"]
        assert done["status"] == "ok", done
        # the edit may land before or after the job reached that row: either way it stays
        assert done["result"]["transcribed"] + done["result"]["skipped"] == 4
        assert done["result"]["revision"] <= labels(project)["revision"]
        after = backend.reply(backend.send("labels.get", project=str(project)))["result"]
    finally:
        backend.close()
    texts = {r["id"]: r["text"] for r in after["rows"]}
    assert texts[last] == "Typed in the app." and all(texts.values())
