"""Original VITS checkpoints (``G_<step>.pth`` + ``config.json``, random tiny weights in the
original layout) spoken by the ``speak`` job: the config beside the file or given, and a
multi-speaker checkpoint whose speakers have ids but no names."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.jobs import speak as job
from backend.kernel import BadArgs, JobContext, JobError
from tests.models.vits_files import tiny_config, tiny_generator, write_original


def _original(folder: Path, n_speakers: int = 0) -> Path:
    cfg = tiny_config(178, n_speakers=n_speakers, use_sdp=False)
    conf = cfg.to_json()  # no "symbols": English cleaners read with the published table
    conf["data"]["text_cleaners"] = ["english_cleaners2"]
    return write_original(folder, "ljs_nosdp", config=conf,
                          state=tiny_generator(cfg).state_dict())


def _run(args: dict) -> dict:
    return job.run(job.prepare(args), JobContext("t", "speak", lambda e, d: None))


def test_an_original_checkpoint_speaks_with_its_config_beside_it_or_given(
        tmp_path: Path) -> None:
    ckpt = _original(tmp_path / "vits run ü")
    result = _run({"model": str(ckpt), "text": "Hello world.", "out": str(tmp_path / "a.wav")})
    assert result["sample_rate"] == 22050 and result["seconds"] > 0.1
    assert result["language"] == "en" and result["sentences"][0]["text"] == "Hello world."
    moved = tmp_path / "elsewhere" / "G_1000.pth"
    moved.parent.mkdir()
    ckpt.rename(moved)
    given = _run({"model": str(moved), "config": str(ckpt.parent / "config.json"),
                  "text": "Hello world.", "out": str(tmp_path / "b.wav")})
    assert given["seconds"] == result["seconds"]
    with pytest.raises(JobError, match="G_1000.pth .*config.json"):  # not beside it, not given
        job.prepare({"model": str(moved), "text": "Hello world."})


def test_speakers_without_names_are_chosen_by_id(tmp_path: Path) -> None:
    ckpt = _original(tmp_path / "vctk like", n_speakers=12)  # their names are their ids
    result = _run({"model": str(ckpt), "text": "Hi there.", "speaker": 3,
                   "out": str(tmp_path / "s.wav")})
    assert (result["speaker"], result["speaker_id"]) == ("3", 3)
    with pytest.raises(BadArgs, match=r"speaker 'alice' is not in .*: its speakers are "
                                      r"'0', '1', .*'7' and 4 more"):
        _run({"model": str(ckpt), "text": "Hi there.", "speaker": "alice"})
    with pytest.raises(BadArgs, match="speaker 12 is out of range: .* ids 0 to 11"):
        _run({"model": str(ckpt), "text": "Hi there.", "speaker": "12"})
