"""Training names every clip it cannot use, and refuses to start when too many are gone."""

from __future__ import annotations

import pytest

from backend.commands.train import suggest
from backend.dataset.project import open_project
from backend.jobs import train
from backend.kernel import BadArgs
from backend.train.rvc_data import DatasetError, RvcDataset
from tests.train.feature_project import make_feature_project, train_in_process

CONTENT_03 = "features/content_v2/clip03.npy"
WAV_07 = "prepared/0_gt_wavs/clip07.wav"


@pytest.fixture
def project(tmp_path):  # type: ignore[no-untyped-def]
    return make_feature_project(tmp_path / "Projet ü", clips=10, seconds=0.6, growth=0.05)


def test_one_missing_clip_in_ten_is_named_and_left_out(project) -> None:  # type: ignore[no-untyped-def]
    (project / CONTENT_03).unlink()
    result, logs = train_in_process(project, batch_size=4)
    assert result["unusable_clips"] == [
        {"clip": "clip03", "reason": f"its feature file {CONTENT_03} is missing"}]
    [warning] = [m for lvl, m in logs if lvl == "warning" and "clip03" in m]
    assert warning == (f"1 of the 10 extracted clips cannot be used and are left out: clip03 "
                       f"(its feature file {CONTENT_03} is missing); run Extract again to "
                       "train on them")
    assert suggest(open_project(project))["ready"] is True


def test_more_than_a_tenth_missing_refuses_to_start(project) -> None:  # type: ignore[no-untyped-def]
    (project / CONTENT_03).unlink()
    (project / WAV_07).unlink()
    expected = (f"2 of the 10 extracted clips (20%) cannot be used: clip03 (its feature file "
                f"{CONTENT_03} is missing); clip07 (its prepared clip {WAV_07} is missing); "
                "run Prepare, then Extract again (training starts when at most 10% are "
                "missing)")
    with pytest.raises(BadArgs) as err:
        train.prepare({"project": str(project), "size": "tiny"})
    assert str(err.value) == expected
    assert [c["clip"] for c in err.value.details["unusable_clips"]] == ["clip03", "clip07"]
    sug = suggest(open_project(project))
    assert sug["ready"] is False and sug["problems"] == [expected]


def test_only_missing_features_say_run_extract_again(project) -> None:  # type: ignore[no-untyped-def]
    for i in range(10):
        (project / f"features/f0/clip{i:02d}.npy").unlink()
    with pytest.raises(BadArgs) as err:
        train.prepare({"project": str(project), "size": "tiny"})
    message = str(err.value)
    assert message.startswith("none of the 10 extracted clips can be used: clip00 (its feature "
                              "file features/f0/clip00.npy is missing);")
    assert "and 0 more" not in message and "; run Extract again (training" in message


def test_an_unreadable_feature_file_counts_as_missing(project) -> None:  # type: ignore[no-untyped-def]
    (project / CONTENT_03).unlink()
    f0 = project / "features/f0/clip05.npy"
    f0.write_bytes(f0.read_bytes()[:60])  # truncated: the header only
    with pytest.raises(DatasetError) as err:
        RvcDataset(project, "v2", 40000, 400)
    message = str(err.value)
    assert message.startswith("2 of the 10 extracted clips (20%) cannot be used: clip03 (")
    assert f"clip05 (the feature file {f0} is damaged (" in message
    assert message.endswith("; run Extract again (training starts when at most 10% are "
                            "missing)")
