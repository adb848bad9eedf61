"""Project, model and run names become file names only through ``safe_name``: export and
index with hostile names write inside the project, and the display name stays as typed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from backend.jobs import export as export_job
from backend.jobs import index as index_job
from backend.jobs import train as train_job
from backend.jobs.base import BadArgs, JobContext
from backend.names import safe_name
from tests.train.feature_project import make_feature_project

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ["../../x", "AC/DC", "CON", "nul.txt", "a\x00b\nc", "trailing. ", "..", "声" * 80,
           'what?<>:"|*']


def _cli(*args: str, umask: int = 0o022) -> dict:
    res = subprocess.run([sys.executable, "-m", "backend", *args, "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUTF8": "1"},
                         preexec_fn=lambda: os.umask(umask))
    assert res.stdout.strip(), res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _rename(project: Path, name: str) -> None:
    """What a hand-edited project.json (or ``--name``, or the GUI) can hold."""
    meta = json.loads((project / "project.json").read_text("utf-8"))
    meta["name"] = name
    (project / "project.json").write_text(json.dumps(meta), "utf-8")


def _files_outside(project: Path, before: set[Path]) -> set[Path]:
    return {p for p in project.parent.rglob("*") if p not in before} - set(project.rglob("*"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile") / "deep" / "er"
    project = make_feature_project(base / "Voix é", clips=4, seconds=0.6)
    out = _cli("train", "--project", str(project), "--size", "tiny", "--epochs", "1",
               "--batch-size", "2", "--save-every", "1", "--device", "cpu")
    assert out["status"] == "ok", out
    return project


def test_cli_export_and_index_with_hostile_names_stay_inside(trained: Path) -> None:
    before = set(trained.parent.rglob("*"))
    _rename(trained, "../../x")
    out = _cli("export", "--project", str(trained))
    assert out["status"] == "ok", out
    model = Path(out["result"]["model"])
    assert model == trained / "export" / "x.pth" and model.is_file()
    assert not (trained.parent / "x.pth").exists()
    assert oct(model.stat().st_mode & 0o777) == oct(0o644)  # not 0600 (umask 022)

    _rename(trained, "AC/DC")
    out = _cli("index", "--project", str(trained))
    assert out["status"] == "ok", out
    index = Path(out["result"]["index"])
    assert index.parent == trained / "index" and index.name.endswith("_AC_DC_v2.index")
    assert oct(index.stat().st_mode & 0o777) == oct(0o644)
    pkg = _cli("export", "--project", str(trained), "--out", str(trained / "export" / "p.zip"))
    assert pkg["status"] == "ok", pkg
    with zipfile.ZipFile(pkg["result"]["package"]) as zf:
        names = zf.namelist()
        card = json.loads(zf.read("model_card.json"))
    assert "AC_DC.pth" in names and index.name in names
    assert card["name"] == "AC/DC"  # the display name, as typed
    assert json.loads((trained / "project.json").read_text("utf-8"))["name"] == "AC/DC"
    assert _files_outside(trained, before) == set()


def test_every_hostile_name_exports_and_indexes_inside(trained: Path) -> None:
    before = set(trained.parent.rglob("*"))
    ctx = JobContext("t", "job", lambda event, data: None)
    for name in HOSTILE:
        _rename(trained, name)
        res = index_job.run(index_job.prepare({"project": str(trained)}), ctx)
        assert Path(res["index"]).parent == trained / "index", name
        assert f"_{safe_name(name)}_v2.index" in Path(res["index"]).name
        params = export_job.prepare({"project": str(trained)})
        assert params.out == trained / "export" / f"{safe_name(name)}.pth", name
        if name in HOSTILE[2:5]:  # a real export for a few (the CLI test did "../../x")
            assert Path(export_job.run(params, ctx)["model"]).is_file()
    for name in HOSTILE[5:7]:  # the model's name inside a package
        pkg = export_job.prepare({"project": str(trained), "name": name,
                                  "out": str(trained / "export" / "pkg.zip")})
        with zipfile.ZipFile(export_job.run(pkg, ctx)["package"]) as zf:
            assert f"{safe_name(name)}.pth" in zf.namelist()
    assert _files_outside(trained, before) == set()


def test_run_names_cannot_point_outside_the_project(trained: Path) -> None:
    elsewhere = trained.parent / "train" / "main"  # a run folder next to the project
    elsewhere.mkdir(parents=True, exist_ok=True)
    for ck in (trained / "train" / "main").glob("ckpt_*.pt"):
        (elsewhere / ck.name).write_bytes(ck.read_bytes())
    with pytest.raises(BadArgs, match="run train_main has no checkpoint yet"):
        export_job.prepare({"project": str(trained), "run": "../../train/main"})
    assert export_job.prepare({"project": str(trained), "run": "main"}).run_dir == \
        trained / "train" / "main"
    for run, folder in (("CON", "CON_"), ("main ", "main"), ("lpt1", "lpt1_")):
        params = train_job.prepare({"project": str(trained), "run": run, "size": "tiny"})
        assert params.run_dir == trained / "train" / folder, run
