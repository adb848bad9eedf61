"""The text-to-speech training rows: labelled clips -> symbol ids + audio, the rows left out
(each named with why), and the train/validation split kept with the run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.labels import store
from backend.text import get
from backend.train import vits_data
from backend.train.rvc_data import DatasetError
from tests.train.vits_project import SENTENCES, labelled_copy

HOP = 256


@pytest.fixture
def root(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return labelled_copy(tmp_path_factory, tmp_path / "projet à copier")


def _settings(root: Path, **kw: object) -> vits_data.DataSettings:
    speakers = vits_data.speaker_table(vits_data.labelled_rows(root))
    base = {"language": "en", "symbols": list(get("en").symbols), "speakers": speakers,
            "sample_rate": 22050, "hop": HOP, "add_blank": True}
    return vits_data.DataSettings(**{**base, **kw})  # type: ignore[arg-type]


def _edit(root: Path, fn) -> None:  # type: ignore[no-untyped-def]
    """``fn(i, row)`` on every row, ``i`` counting from 0 in the table's order (line - 1)."""
    order = {r["id"]: r["line"] - 1 for r in vits_data.labelled_rows(root)}
    store.update(root, lambda doc: [fn(order[r["id"]], r) for r in doc.rows])


def test_labelled_clips_become_symbol_ids_and_audio(root: Path, tmp_path: Path) -> None:
    data = vits_data.VitsDataset(root, _settings(root), tmp_path / "run")
    assert data.skipped == []
    assert len(data.train) == 5 and len(data.validation) == 1  # 6 rows: one kept aside
    frontend = get("en")
    for i, utt in enumerate(data.train):
        ex = data[i]
        assert utt.text in SENTENCES and utt.sid == 0
        assert ex.ids[0::2].tolist() == [0] * (len(ex.ids) // 2 + 1)  # blanks around
        assert ex.ids[1::2].tolist() == frontend.to_ids(utt.text)
        seconds = sf.info(utt.path).duration
        assert ex.frames % HOP == 0 and abs(ex.frames / 22050 - seconds) < HOP / 22050 + 1e-3
        assert data.lengths()[i] == ex.frames // HOP
    assert data.seconds() == pytest.approx(sum(u.seconds for u in data.train))
    batch = vits_data.collate([data[0], data[1]], HOP)
    assert batch.x.shape == (2, max(len(data[0].ids), len(data[1].ids)))
    assert batch.wav.shape[-1] == HOP * int(batch.spec_lengths.max())
    halves = batch.split(2)
    assert [h.x.shape[1] for h in halves] == [len(data[0].ids), len(data[1].ids)]
    assert [h.wav.shape[-1] for h in halves] == [data[0].frames, data[1].frames]


def test_rows_that_cannot_train_are_named_with_why(root: Path, tmp_path: Path) -> None:
    def spoil(i: int, row: dict) -> None:
        if i == 0:
            row["language"] = "zh"
        elif i == 1:
            row["text"] = " ".join(SENTENCES * 3)  # far more symbols than frames
        elif i == 2:
            row["text"] = ""  # not labelled: not a problem, just not training data
        elif i == 3:
            row["speaker"] = "Nobody"

    _edit(root, spoil)
    data = vits_data.VitsDataset(root, _settings(root, speakers={"Sally": 0}), tmp_path / "r")
    reasons = {s["line"]: s["reason"] for s in data.skipped}
    assert reasons[1] == "its language is zh; this run trains en"
    assert reasons[2].startswith("its clip is too short for its text (")
    assert reasons[4].startswith("its speaker 'Nobody' is not one of this run's speakers")
    assert set(reasons) == {1, 2, 4} and len(data.train) + len(data.validation) == 2
    assert all(s["clip"].endswith(".wav") for s in data.skipped)


def test_no_usable_row_is_a_clear_error(root: Path, tmp_path: Path) -> None:
    _edit(root, lambda i, row: row.update(language="zh"))
    with pytest.raises(DatasetError, match=r"none of the labelled clips can be used for "
                                           r"training: .*\.wav \(its language is zh"):
        vits_data.VitsDataset(root, _settings(root), tmp_path / "run")
    _edit(root, lambda i, row: row.update(text=""))
    with pytest.raises(DatasetError, match="has no labelled clips in en: give the clips "
                                           "their text on the Labels page"):
        vits_data.VitsDataset(root, _settings(root), tmp_path / "run")


def test_the_split_is_written_once_and_kept_on_resume(root: Path, tmp_path: Path) -> None:
    run = tmp_path / "run – é"
    first = vits_data.VitsDataset(root, _settings(root), run)
    saved = json.loads((run / vits_data.SPLIT_FILE).read_text("utf-8"))
    assert saved["train"] == [u.row for u in first.train]
    assert saved["validation"] == [u.row for u in first.validation]
    # the run's file is the truth: a row it puts aside stays aside, one it lacks is named
    moved, dropped = saved["train"][0], saved["train"][1]
    saved["validation"].append(moved)
    saved["train"] = saved["train"][2:]
    (run / vits_data.SPLIT_FILE).write_text(json.dumps(saved), "utf-8")
    again = vits_data.VitsDataset(root, _settings(root), run)
    assert [u.row for u in again.train] == saved["train"]
    assert moved in [u.row for u in again.validation]
    assert [s["row"] for s in again.skipped] == [dropped]
    assert "labelled after this run started" in again.skipped[0]["reason"]
    # a damaged split file: the rows are split again, the same way
    (run / vits_data.SPLIT_FILE).write_text("{not json", "utf-8")
    logs: list[tuple[str, str]] = []
    third = vits_data.VitsDataset(root, _settings(root), run, log=lambda m, lv: logs.append(
        (lv, m)))
    assert [u.row for u in third.train] == [u.row for u in first.train]
    assert logs and logs[0][0] == "warning" and "split again" in logs[0][1]


def test_speakers_are_sorted_names(root: Path) -> None:
    _edit(root, lambda i, row: row.update(speaker="Kal" if i % 2 else None))
    rows = vits_data.labelled_rows(root)
    assert vits_data.speaker_table(rows) == {"Kal": 0, "Voix d'essai – é": 1}
    assert vits_data.language_counts(rows) == {"en": 6}
    assert [r["line"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert np.all([Path(r["clip_path"]).is_file() for r in rows])
