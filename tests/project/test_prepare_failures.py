"""Prepare's failure paths: deleted clips are prepared again (so "run Prepare again" works),
and project files of a newer format are refused, unchanged, naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.commands import CommandError
from backend.commands import project as project_cmds
from backend.dataset import project as proj
from backend.jobs import extract as extract_job
from backend.jobs import importer
from backend.jobs import prepare as prepare_job
from backend.kernel import BadArgs
from tests.features.tone_project import clips, copy_project, events, harmonic_bursts, make_base
from tests.project.helpers import check_manifest, run_cli, wavs_read_fully


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_base(tmp_path_factory.mktemp("prepare failures"), features=False)


@pytest.fixture
def project(base: dict[str, Path], tmp_path: Path) -> Path:
    return copy_project(base["project"], tmp_path)


def test_deleted_clips_are_prepared_again(project: Path) -> None:
    first, second = sorted(clips(project).values(), key=lambda s: s["name"])[:2]
    (project / first["path"]).unlink()
    (project / second["path_16k"]).unlink()
    ctx, seen = events()
    res = prepare_job.run(prepare_job.prepare({"project": str(project)}), ctx)
    assert (res["sources_processed"], res["sources_skipped"], res["errors"]) == (1, 0, [])
    logs = [d["message"] for e, d in seen if e == "log"]
    assert any("2 prepared file(s) of ton 1.wav are missing" in m and "preparing it again" in m
               for m in logs), logs
    manifest = check_manifest(project)  # every listed clip exists at both rates
    assert sum(len(e["slices"]) for e in manifest["sources"].values()) == res["slices"] >= 2
    wavs_read_fully(project / "prepared" / "0_gt_wavs")
    wavs_read_fully(project / "prepared" / "1_16k_wavs")
    ctx, _ = events()
    res = prepare_job.run(prepare_job.prepare({"project": str(project)}), ctx)
    assert (res["sources_processed"], res["sources_skipped"]) == (0, 1)


def _newer(path: Path) -> bytes:
    data = json.loads(path.read_text("utf-8"))
    data["format"] = proj.FORMAT + 1
    path.write_text(json.dumps(data), "utf-8")
    return path.read_bytes()


@pytest.mark.parametrize("name", ["project.json", "sources.json", "edits.json",
                                  "prepared/manifest.json"])
def test_files_of_a_newer_format_are_refused_unchanged(base: dict[str, Path], project: Path,
                                                       tmp_path: Path, name: str) -> None:
    path = project / name
    before = _newer(path)
    expected = f"{path} was made by a newer Timbre Studio (format 2; this version reads " \
               "format 1): update the app to use this project. Nothing was changed"
    new_source = harmonic_bursts(tmp_path / "neu" / "ton 2.wav", 220, bursts=2, seed=3)
    attempts = [lambda: prepare_job.prepare({"project": str(project)}),
                lambda: prepare_job.prepare({"project": str(project), "create": {},
                                             "inputs": [str(new_source)]})]
    if name in ("project.json", "sources.json"):
        attempts.append(lambda: importer.prepare({"project": str(project), "create": {},
                                                  "inputs": [str(new_source)]}))
    if name in ("project.json", "prepared/manifest.json"):
        attempts.append(lambda: extract_job.prepare({"project": str(project)}))
    for attempt in attempts:
        with pytest.raises(BadArgs) as caught:
            attempt()
        assert caught.value.message == expected
    if name in ("sources.json", "edits.json"):  # the editor's commands refuse them too
        sid = json.loads(before)["sources"][0]["id"] if name == "sources.json" \
            else json.loads((project / "sources.json").read_text("utf-8"))["sources"][0]["id"]
        with pytest.raises(CommandError) as caught:
            project_cmds.set_edits({"path": str(project), "source_id": sid,
                                    "segments": [[0.1, 1.0]]}, None)
        assert caught.value.message == expected
    code, summary, err = run_cli("prepare", str(new_source), "--project", str(project))
    assert code == 2 and summary["error"]["code"] == "bad_arguments", err
    assert expected in summary["error"]["message"]
    assert path.read_bytes() == before
