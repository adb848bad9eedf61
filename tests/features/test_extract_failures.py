"""Extract's failure paths keep what the user had: a failed run leaves the features manifest
as it was, missing or damaged feature files are rebuilt, damaged files are named by every
reader, a full disk stops the job, and a manifest of a newer format is refused."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from backend.features import store
from backend.jobs import index as index_job
from backend.kernel import BadArgs, JobContext, JobError
from tests.features.tone_project import (
    clips,
    copy_project,
    extract,
    feature_manifest,
    make_base,
)
from tests.project.helpers import run_cli


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_base(tmp_path_factory.mktemp("failures"))


@pytest.fixture
def project(base: dict[str, Path], tmp_path: Path) -> Path:
    return copy_project(base["project"], tmp_path)


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _all_readable(root: Path) -> None:
    manifest = feature_manifest(root)
    assert set(manifest["slices"]) == set(clips(root))
    for entry in manifest["slices"].values():
        for key in store.FEATURE_KEYS:
            store.load_npy(root / entry[key])


def test_broken_encoder_leaves_the_manifest_as_it_was(base: dict[str, Path], project: Path,
                                                      tmp_path: Path) -> None:
    before = (project / store.MANIFEST).read_bytes()
    broken = tmp_path / "kaputt" / "hubert_base.pt"
    broken.parent.mkdir()
    broken.write_bytes(base["encoder"].read_bytes()[:5000])  # cut short: unreadable
    with pytest.raises(BadArgs, match="cannot extract features"):
        extract(project, broken)
    assert (project / store.MANIFEST).read_bytes() == before
    assert len(store.ready_slices(project, "v2")) == len(clips(project))
    _all_readable(project)


def test_missing_and_damaged_feature_files_are_extracted_again(base: dict[str, Path],
                                                               project: Path) -> None:
    entries = feature_manifest(project)["slices"]
    a, b, c, _ = sorted(entries)
    (project / entries[a]["content"]).unlink()
    _truncate(project / entries[b]["f0"])
    (project / entries[c]["f0_coarse"]).write_bytes(b"\x93NUMPY garbage")
    logs: list[str] = []
    res = extract(project, base["encoder"], logs)
    assert (res["processed"], res["skipped"], res["errors"]) == (3, 1, [])
    assert any("3 clip(s) have missing or damaged feature files" in m for m in logs), logs
    _all_readable(project)
    res = extract(project, base["encoder"])
    assert (res["processed"], res["skipped"]) == (0, 4)


def test_every_reader_names_a_truncated_feature_file(base: dict[str, Path],
                                                     project: Path) -> None:
    from backend.train.rvc_data import ClipUnreadable, load_example

    entries = feature_manifest(project)["slices"]
    stem = sorted(entries)[1]
    content = project / entries[stem]["content"]
    _truncate(content, 0.7)
    expected = f"the feature file {content} is damaged (cut short"

    code, summary, err = run_cli("index", "--project", str(project))
    assert code == 1, err
    assert summary["status"] == "failed" and expected in summary["error"]["message"]
    assert "Traceback" not in err

    ready = store.ready_slices(project, "v2")
    with pytest.raises(ClipUnreadable) as unreadable:  # training: the clip is left out, named
        load_example(project, stem, ready[stem], 40000, 400)
    assert str(unreadable.value).startswith(expected)

    params = index_job.prepare({"project": str(project)})
    with pytest.raises(JobError) as caught:
        index_job.run(params, JobContext("t", "index", lambda e, d: None))
    assert expected in caught.value.message and "run Extract again" in caught.value.message
    with pytest.raises(store.FeatureFileError) as caught:
        store.load_npy(content)
    assert caught.value.message.startswith(expected)


def _fill(disk: Path) -> Path:
    """Fill the disk to the last byte (unbuffered writes, smaller and smaller)."""
    filler = disk / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (65536, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_full_disk_stops_extract_with_the_disk_full_message(base: dict[str, Path],
                                                            small_disk: Path) -> None:
    project = copy_project(base["project"], small_disk)
    before = (project / store.MANIFEST).read_bytes()
    filler = _fill(small_disk)
    with pytest.raises(JobError) as caught:
        extract(project, base["encoder"], f0="dio")  # every clip's features are due
    message = caught.value.message
    assert caught.value.code == "io_error"
    assert message.startswith("disk full while writing ") and str(project) in message
    assert message.endswith("free space and run Extract again"), message
    assert (project / store.MANIFEST).read_bytes() == before
    assert not [p for p in (project / "features").rglob(".tmp-*")]
    filler.unlink()
    res = extract(project, base["encoder"], f0="dio")
    assert (res["processed"], res["errors"], res["f0_method"]) == (4, [], "dio")
    _all_readable(project)


def test_features_manifest_of_a_newer_format_is_refused(base: dict[str, Path],
                                                        project: Path) -> None:
    path = project / store.MANIFEST
    data = json.loads(path.read_text("utf-8"))
    data["format"] = store.FORMAT + 1
    path.write_text(json.dumps(data), "utf-8")
    before = path.read_bytes()
    for run in (lambda: extract(project, base["encoder"]),
                lambda: index_job.prepare({"project": str(project)})):
        with pytest.raises(BadArgs) as caught:
            run()
        assert f"{path} was made by a newer Timbre Studio (format 2" in caught.value.message
        assert "update the app" in caught.value.message
    code, summary, err = run_cli("extract", "--project", str(project), "--f0", "pm",
                                 "--encoder", str(base["encoder"]), "--device", "cpu")
    assert code == 2 and summary["error"]["code"] == "bad_arguments", err
    assert "made by a newer Timbre Studio" in summary["error"]["message"]
    assert path.read_bytes() == before
    assert os.listdir(project / "features" / "f0")  # nothing was removed either
    assert np.load(project / data["slices"][sorted(data["slices"])[0]]["f0"]).size
