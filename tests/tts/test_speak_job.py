"""The ``speak`` job and CLI verb end to end, with tiny random-weight VITS files written by the
real ``write_tts_model`` (in folders with spaces and non-ASCII names)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.jobs import speak as job
from backend.kernel import BadArgs, JobCancelled, JobContext, JobError
from tests.tts.test_joining import largest_step
from tests.tts.tts_files import tiny_tts_file

HOP, RATE = 256, 22050
TEXT = "Hello there. How are you today? I am fine!"


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tts") / "voix – ünï 声"
    return {"root": root, "model": tiny_tts_file(root / "tiny speaker.pth"),
            "multi": tiny_tts_file(root / "two voices.pth", speakers={"alice": 0, "bob": 1},
                                   seed=1)}


def _run(args: dict) -> tuple[dict, list[tuple[str, dict]]]:
    seen: list[tuple[str, dict]] = []
    ctx = JobContext("t", "speak", lambda e, d: seen.append((e, d)), min_interval=0)
    return job.run(job.prepare(args), ctx), seen


def _stages(seen: list[tuple[str, dict]], stage: str) -> list[tuple[float, float]]:
    return [(d["done"], d["total"]) for e, d in seen
            if e == "job.progress" and d["stage"] == stage]


def test_cli_speaks_sentences_into_the_wav(kit: dict[str, Path], python_exe: str,
                                           repo_root: Path) -> None:
    out = kit["root"] / "out put" / "sägen.wav"
    cmd = [python_exe, "-m", "backend", "speak", "--model", str(kit["model"]), "--text",
           TEXT, "--out", str(out), "--json"]
    done = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "ok"
    result = summary["result"]
    audio, rate = sf.read(out)
    assert (result["out"], result["sample_rate"], rate) == (str(out), RATE, RATE)
    assert result["seconds"] == pytest.approx(audio.shape[0] / rate, abs=1e-3)
    said = result["sentences"]
    assert [s["text"] for s in said] == ["Hello there.", "How are you today?", "I am fine!"]
    assert all(a["end"] < b["start"] for a, b in zip(said, said[1:], strict=False))
    assert said[-1]["end"] == pytest.approx(result["seconds"], abs=1e-3)
    assert result["reading"]["normalized"] == TEXT
    assert "həlˈoʊ" in result["reading"]["phonemes"]
    assert (result["speaker"], result["voice"]) == (None, None)
    assert "speaking: 3/3" in done.stderr


def test_long_text_is_spoken_sentence_by_sentence_without_clicks(kit: dict[str, Path],
                                                                 tmp_path: Path) -> None:
    text = " ".join(f"Sentence {i}, alone." for i in range(1, 6))
    result, seen = _run({"model": str(kit["model"]), "text": text,
                         "out": str(tmp_path / "long.wav")})
    said = result["sentences"]
    assert len(said) == 5 and said[4]["text"] == "Sentence 5, alone."
    assert _stages(seen, "speaking")[-1] == (5, 5)
    audio, _ = sf.read(result["out"], dtype="float32")
    inside = max(largest_step(audio[int(s["start"] * RATE) + 300:int(s["end"] * RATE) - 300])
                 for s in said)
    margin = int(0.02 * RATE)
    for a, b in zip(said, said[1:], strict=False):  # the joins: end, pause, start
        join = audio[int(a["end"] * RATE) - margin:int(b["start"] * RATE) + margin]
        assert largest_step(join) <= inside
        gap = audio[int(a["end"] * RATE) + 50:int(b["start"] * RATE) - 50]  # times: ms
        assert np.max(np.abs(gap)) <= 1 / 32768  # silence (16-bit)
    # every sentence lasts its symbols (blanks too) times 2 frames: a plausible length
    assert all(0.5 < s["end"] - s["start"] < 3.0 for s in said)


def test_length_scale_two_speaks_about_twice_as_long(kit: dict[str, Path],
                                                     tmp_path: Path) -> None:
    base, _ = _run({"model": str(kit["model"]), "text": TEXT, "out": str(tmp_path / "a.wav")})
    slow, _ = _run({"model": str(kit["model"]), "text": TEXT, "length_scale": 2.0,
                    "out": str(tmp_path / "b.wav")})
    assert slow["seconds"] / base["seconds"] == pytest.approx(2.0, rel=0.03)
    for a, b in zip(base["sentences"], slow["sentences"], strict=True):
        assert (b["end"] - b["start"]) / (a["end"] - a["start"]) == pytest.approx(2.0, rel=0.03)
    again, _ = _run({"model": str(kit["model"]), "text": TEXT, "out": str(tmp_path / "c.wav")})
    assert np.array_equal(sf.read(again["out"])[0], sf.read(base["out"])[0])  # same seed


def test_speaker_by_name_or_id_and_an_unknown_one_named(kit: dict[str, Path],
                                                        tmp_path: Path) -> None:
    model = str(kit["multi"])
    bob, _ = _run({"model": model, "text": "Good morning.", "speaker": "bob",
                   "out": str(tmp_path / "bob.wav")})
    assert (bob["speaker"], bob["speaker_id"]) == ("bob", 1)
    by_id, _ = _run({"model": model, "text": "Good morning.", "speaker": "1",
                     "out": str(tmp_path / "one.wav")})
    first, _ = _run({"model": model, "text": "Good morning.", "out": str(tmp_path / "a.wav")})
    assert by_id["speaker"] == "bob" and first["speaker"] == "alice"
    assert np.array_equal(sf.read(by_id["out"])[0], sf.read(bob["out"])[0])
    alice, bob_audio = sf.read(first["out"])[0], sf.read(bob["out"])[0]
    assert np.max(np.abs(alice - bob_audio)) > 0.1 * np.max(np.abs(bob_audio))
    with pytest.raises(BadArgs, match=r"speaker 'carol' is not in two voices: its speakers "
                                      r"are 'alice', 'bob'"):
        _run({"model": model, "text": "Hi.", "speaker": "carol"})
    with pytest.raises(BadArgs, match=r"speaker 7 is out of range: two voices has speaker "
                                      r"ids 0 to 1"):
        _run({"model": model, "text": "Hi.", "speaker": 7})
    with pytest.raises(BadArgs, match="tiny speaker speaks with one voice"):
        _run({"model": str(kit["model"]), "text": "Hi.", "speaker": "bob"})


def test_bad_arguments_are_named(kit: dict[str, Path], tmp_path: Path) -> None:
    model = str(kit["model"])
    with pytest.raises(BadArgs, match="'text' is required: type or paste what to say"):
        job.prepare({"model": model, "text": "  "})
    with pytest.raises(JobError, match="nope.pth does not exist") as missing:
        job.prepare({"model": str(tmp_path / "nope.pth"), "text": "Hi."})
    assert missing.value.code == "not_found"
    with pytest.raises(BadArgs, match="speech.mp3 is not a .wav file name"):
        job.prepare({"model": model, "text": "Hi.", "out": str(tmp_path / "speech.mp3")})
    with pytest.raises(BadArgs, match="is a folder; give the .wav file"):
        job.prepare({"model": model, "text": "Hi.", "out": str(tmp_path)})
    with pytest.raises(BadArgs, match=r"length_scale \(speed\) must be a number from 0.25"):
        job.prepare({"model": model, "text": "Hi.", "length_scale": 9})
    with pytest.raises(BadArgs, match="nothing to say: the text has no words the English"):
        job.prepare({"model": model, "text": "... —"})  # before any job starts


def test_cli_reads_a_text_file_and_names_one_that_is_not_utf8(kit: dict[str, Path],
                                                              python_exe: str, repo_root: Path,
                                                              tmp_path: Path) -> None:
    bad = tmp_path / "texte ä.txt"
    bad.write_bytes("Grüße aus Köln.".encode("latin-1"))
    cmd = [python_exe, "-m", "backend", "speak", "--model", str(kit["model"]), "--text-file",
           str(bad), "--out", str(tmp_path / "x.wav"), "--json"]
    done = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    error = json.loads(done.stdout.strip().splitlines()[-1])["error"]
    assert error["code"] == "bad_arguments"
    assert error["message"].startswith(f"--text-file {bad} is not UTF-8 text")
    assert not (tmp_path / "x.wav").exists()


def test_cancel_between_sentences_leaves_no_file(kit: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "never.wav"
    params = job.prepare({"model": str(kit["model"]), "text": "One. Two. Three. Four.",
                          "out": str(out)})
    seen: list[dict] = []

    def emit(event: str, data: dict) -> None:
        if event == "job.progress" and data["stage"] == "speaking":
            seen.append(data)
            if data["done"] == 1:
                ctx.cancel()

    ctx = JobContext("t", "speak", emit, min_interval=0)
    with pytest.raises(JobCancelled):
        job.run(params, ctx)
    assert not out.exists() and max(d["done"] for d in seen) == 1  # the worker stopped too


def test_without_out_the_speech_goes_to_the_cache(kit: dict[str, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "data ü"))
    cache = tmp_path / "data ü" / "cache" / "speech"
    cache.mkdir(parents=True)
    for i in range(job.KEEP_CACHED + 5):  # earlier speech, oldest first
        old = cache / f"old {i:02d}.wav"
        old.write_bytes(b"")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    result, _ = _run({"model": str(kit["model"]), "text": "Hi there."})
    out = Path(result["out"])
    assert out.parent == cache
    assert out.name.startswith("tiny speaker-") and out.suffix == ".wav" and out.is_file()
    kept = sorted(p.name for p in cache.glob("*.wav"))
    assert len(kept) == job.KEEP_CACHED and "old 05.wav" not in kept and "old 06.wav" in kept


def test_a_chinese_model_speaks_chinese_sentences(tmp_path: Path) -> None:
    model = tiny_tts_file(tmp_path / "中文.pth", language="zh")
    result, _ = _run({"model": str(model), "text": "你好。今天天气很好！",
                      "out": str(tmp_path / "zh.wav")})
    assert [s["text"] for s in result["sentences"]] == ["你好。", "今天天气很好！"]
    assert result["language"] == "zh"
    assert result["reading"]["phonemes"].startswith("ni2 hao3")  # tone sandhi
    mixed, seen = _run({"model": str(model), "text": "你好。Hi you. 很好！",
                        "out": str(tmp_path / "mixed.wav")})
    assert [s["text"] for s in mixed["sentences"]] == ["你好。", "很好！"]  # no Latin read
    unread = mixed["reading"]["unsupported"]
    assert [(u["char"], u["index"]) for u in unread][:2] == [("H", 3), ("i", 4)]
    assert ("log", "not read: LATIN CAPITAL LETTER H (U+0048) at character 4") in \
        [(e, d["message"]) for e, d in seen if e == "log"]
    with pytest.raises(BadArgs, match=r"nothing to say: the Chinese front-end cannot read "
                                      r"'H' \(LATIN CAPITAL LETTER H\), 'e'"):
        _run({"model": str(model), "text": "Hello."})


def test_cli_options_become_the_job_arguments(tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    job.add_cli_arguments(parser)
    text = tmp_path / "text ü.txt"
    text.write_text("\ufeffFirst line.\n\nSecond paragraph.", encoding="utf-8")  # with a BOM
    args = job.args_from_cli(parser.parse_args([
        "--model", "m.pth", "--text-file", str(text), "--speaker", "bob", "--length-scale",
        "1.5", "--voice", "v.pth", "--voice-key", "-3", "--voice-f0", "harvest",
        "--voice-encoder", "enc.pt", "--out", "o.wav"]))
    assert args["text"] == "First line.\n\nSecond paragraph."
    assert (args["speaker"], args["length_scale"], args["noise_scale"]) == ("bob", 1.5, 0.667)
    assert (args["voice"], args["voice_key"], args["voice_f0"], args["voice_encoder"]) == \
        ("v.pth", -3.0, "harvest", "enc.pt")
    assert (args["voice_index_rate"], args["out"], args["device"]) == (0.75, "o.wav", "auto")
    with pytest.raises(SystemExit):  # --text and --text-file together
        parser.parse_args(["--model", "m", "--text", "a", "--text-file", "b", "--out", "o.wav"])
