"""The ``convert`` job and CLI verb end to end: RVC files of random weights in the real formats,
espeak-ng speech, folders with spaces and non-ASCII names, a broken file among good ones."""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.jobs import convert as job
from backend.kernel import BadArgs, JobCancelled, JobContext, JobError
from tests.conftest import espeak_wav
from tests.convert.rvc_files import write_rvc_layout
from tests.convert.tiny_voice import tiny_encoder_file


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("kit") / "my voices – ünï 声"
    layout = write_rvc_layout(root / "rvc", "Åsa voice", "v2", "40k", True)
    speech = espeak_wav(root / "speech.wav", "Good morning, how are you today?")
    return {"root": root, "model": layout.model, "index": layout.index, "speech": speech,
            "encoder": tiny_encoder_file(root, "v2")}


def _inputs(folder: Path, speech: Path) -> Path:
    (folder / "sub ü").mkdir(parents=True)
    (folder / "sub ü" / "speech one.wav").write_bytes(speech.read_bytes())
    (folder / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\x00" * 10)
    (folder / "notes.txt").write_text("not audio")  # not an audio name: skipped
    return folder


def _events() -> tuple[JobContext, list[tuple[str, dict]]]:
    seen: list[tuple[str, dict]] = []
    return JobContext("t", "convert", lambda e, d: seen.append((e, d)), min_interval=0), seen


def _args(kit: dict[str, Path], **more: object) -> dict:
    return {"model": str(kit["model"]), "encoder": str(kit["encoder"]), "f0_method": "pm",
            **more}


def test_cli_converts_a_folder_and_reports_the_broken_file(kit: dict[str, Path],
                                                           python_exe: str,
                                                           repo_root: Path) -> None:
    folder = _inputs(kit["root"] / "in put ä", kit["speech"])
    out = kit["root"] / "out ö"
    cmd = [python_exe, "-m", "backend", "convert", "--model", str(kit["model"]),
           "--encoder", str(kit["encoder"]), str(folder), "--out", str(out), "--f0", "pm",
           "--key", "3", "--index-rate", "0.5", "--json"]
    done = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "ok"
    result = summary["result"]
    assert (result["converted"], result["failed"], result["out"]) == (1, 1, str(out))
    good, = [o for o in result["outputs"] if o["error"] is None]
    bad, = [o for o in result["outputs"] if o["error"] is not None]
    assert good["output"] == str(out / "speech one_Åsa voice.wav")
    assert "broken.wav" in bad["error"] and bad["output"] is None
    audio, rate = sf.read(good["output"])
    src, src_rate = sf.read(kit["speech"])
    assert rate == 40000 and audio.shape[0] == pytest.approx(len(src) * 40000 / src_rate, abs=2)
    assert good["seconds"] == pytest.approx(len(src) / src_rate, abs=0.01)
    assert "converting speech one.wav" in done.stderr and "using the index" in done.stderr


def test_outputs_never_overwrite_and_events_follow_the_protocol(kit: dict[str, Path],
                                                                tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "speech_Åsa voice.wav"
    existing.write_bytes(b"mine")
    twin = tmp_path / "other" / "speech.wav"  # the same stem from another folder
    twin.parent.mkdir()
    twin.write_bytes(kit["speech"].read_bytes())
    params = job.prepare(_args(kit, inputs=[str(kit["speech"]), str(twin)],
                               out=str(out), rms_mix=1.0, index=str(kit["index"])))
    ctx, seen = _events()
    result = job.run(params, ctx)
    assert existing.read_bytes() == b"mine"
    names = [Path(o["output"]).name for o in result["outputs"]]
    assert names == ["speech_Åsa voice (2).wav", "speech_Åsa voice (3).wav"]
    files = [d for e, d in seen if e == "convert.file"]
    assert [{k: f[k] for k in ("input", "output", "seconds", "error")} for f in files] == \
        result["outputs"]
    stages = {(d["stage"], d.get("detail")) for e, d in seen if e == "job.progress"}
    assert ("converting", "speech.wav") in stages
    last = [d for e, d in seen if e == "job.progress"][-1]
    assert last["done"] == last["total"] == pytest.approx(2 * files[0]["seconds"], abs=0.02)


def test_cancel_stops_within_a_second_and_writes_nothing(kit: dict[str, Path],
                                                         tmp_path: Path) -> None:
    audio, sr = sf.read(kit["speech"], dtype="float32")
    long = tmp_path / "long.wav"
    sf.write(long, np.tile(audio, int(np.ceil(60 * sr / len(audio)))), sr)  # a minute
    params = job.prepare(_args(kit, inputs=[str(long)], out=str(tmp_path / "out")))
    ctx, seen = _events()
    errors: list[BaseException] = []

    def go() -> None:
        try:
            job.run(params, ctx)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    worker = threading.Thread(target=go)
    worker.start()
    deadline = time.monotonic() + 120
    while not any(str(d.get("detail", "")).startswith("long")
                  for e, d in seen if e == "job.progress"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    asked = time.monotonic()
    ctx.cancel()
    worker.join(5)
    assert not worker.is_alive() and time.monotonic() - asked < 1.0
    assert len(errors) == 1 and isinstance(errors[0], JobCancelled)
    assert list((tmp_path / "out").iterdir()) == []


def test_preview_converts_the_built_in_phrase(kit: dict[str, Path], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    info = sf.info(job.PREVIEW_PHRASE)
    assert info.samplerate == 16000 and info.channels == 1 and 2 <= info.duration <= 4
    assert job.PREVIEW_PHRASE.stat().st_size < 150_000
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = job.run(job.prepare(_args(kit, preview=True)), _events()[0])
    (row,) = result["outputs"]
    assert row["error"] is None and Path(row["output"]).name == "phrase_Åsa voice.wav"
    assert Path(result["out"]).parent == tmp_path and Path(row["output"]).is_file()


def test_bad_requests_name_what_is_wrong(kit: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(BadArgs, match="'model' is required"):
        job.prepare({"inputs": [str(kit["speech"])], "out": str(tmp_path)})
    with pytest.raises(JobError) as err:  # a HuBERT file is not a voice model
        job.prepare({"model": str(kit["encoder"]), "inputs": [str(kit["speech"])],
                     "out": str(tmp_path)})
    assert err.value.code == "not_a_voice_model"
    with pytest.raises(BadArgs, match="'out' is required"):
        job.prepare(_args(kit, inputs=[str(kit["speech"])]))
    with pytest.raises(BadArgs, match="does not exist"):
        job.prepare(_args(kit, inputs=[str(tmp_path / "typo.wav")], out=str(tmp_path)))
    with pytest.raises(BadArgs, match="give no inputs"):
        job.prepare(_args(kit, inputs=[str(kit["speech"])], preview=True))
    with pytest.raises(BadArgs, match="index_rate must be"):
        job.prepare(_args(kit, inputs=[str(kit["speech"])], out=str(tmp_path), index_rate=2))
