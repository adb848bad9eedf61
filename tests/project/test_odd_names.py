"""Odd things on disk during import: names that are not UTF-8, folders that cannot be read.

The good files next to them are imported; each bad one is named, with what to do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backend.dataset import project as proj
from backend.dataset import sources
from backend.fsutil import atomic_write_json, read_json
from tests.project.helpers import ROOT, speech

BAD_FILE = b"take \xff\xfe.wav"
BAD_DIR = b"dossier \xe9t\xe9"  # Latin-1 bytes, as an old archive may hold


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speech(tmp_path_factory.mktemp("good"), "good.wav", 0)


def _folder_with_bad_names(folder: Path, good: Path) -> Path:
    """good.wav, a copy under a non-UTF-8 file name, and one in a non-UTF-8 subfolder."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(good, folder / "good.wav")
    raw = bytes(folder)
    data = good.read_bytes()
    with open(raw + b"/" + BAD_FILE, "wb") as fh:
        fh.write(data + b"\0")  # another file, so it is not a duplicate
    os.mkdir(raw + b"/" + BAD_DIR)
    with open(raw + b"/" + BAD_DIR + b"/inside.wav", "wb") as fh:
        fh.write(data + b"\0\0")
    return folder


def test_scan_imports_the_good_file_and_names_the_bad_ones(tmp_path: Path, good: Path) -> None:
    folder = _folder_with_bad_names(tmp_path / "takes é", good)
    files, errors = sources.scan_inputs([folder])
    assert files == [folder / "good.wav"]
    by_path = {e["path"]: e["message"] for e in errors}
    bad_file, bad_dir = f"{folder}/take \\xff\\xfe.wav", f"{folder}/dossier \\xe9t\\xe9"
    assert by_path == {
        bad_file: f"{bad_file} was not imported: its name holds bytes that are not UTF-8 "
                  "text (shown as \\x..); rename the file and import again",
        bad_dir: f"the folder {bad_dir} was not imported: its name holds bytes that are not "
                 "UTF-8 text (shown as \\x..); rename the folder and import again"}
    json.dumps(errors, ensure_ascii=False).encode("utf-8")  # a JSON reply can carry them


def _cli(*args: str | bytes) -> tuple[int, dict, str]:
    proc = subprocess.run([sys.executable, "-m", "backend", *args, "--json"], cwd=ROOT,
                          env={**os.environ, "PYTHONUTF8": "1"}, capture_output=True,
                          timeout=120)
    lines = [ln for ln in proc.stdout.decode("utf-8").splitlines() if ln.strip()]
    return proc.returncode, json.loads(lines[-1]) if lines else {}, proc.stderr.decode()


def test_cli_prepare_goes_on_past_names_that_are_not_utf8(tmp_path: Path, good: Path) -> None:
    folder = _folder_with_bad_names(tmp_path / "takes", good)
    project = tmp_path / "project"
    code, summary, err = _cli("prepare", str(folder), "--project", str(project))
    assert code == 0 and summary["status"] == "ok", err
    assert "Traceback" not in err
    res = summary["result"]
    assert res["imported"] == {"added": 1, "duplicates": 0} and res["slices"] >= 1
    messages = [e["message"] for e in res["errors"]]
    assert any("take \\xff\\xfe.wav was not imported" in m and "rename the file" in m
               for m in messages), messages
    assert any("dossier \\xe9t\\xe9 was not imported" in m for m in messages), messages
    assert [s["name"] for s in proj.open_project(project).load_sources()] == ["good.wav"]
    # a non-UTF-8 path given on the command line is named too, and the rest still imported
    bad_arg = bytes(folder) + b"/" + BAD_FILE
    code, summary, err = _cli("prepare", bad_arg, str(folder / "good.wav"), "--project",
                              str(project))
    assert code == 0 and summary["status"] == "ok", err
    (msg,) = [e["message"] for e in summary["result"]["errors"]]
    assert msg.endswith("was not imported: its path holds bytes that are not UTF-8 text "
                        "(shown as \\x..); rename it and import again")
    code, summary, err = _cli("prepare", bytes(folder) + b"/gone \xff.wav", "--project",
                              str(project))
    assert code == 2
    assert summary["error"]["message"] == f"input {folder}/gone \\xff.wav does not exist"


def test_an_unreadable_subfolder_is_named(tmp_path: Path, good: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run as root, where chmod 000 does not deny: the refusal is simulated."""
    folder = tmp_path / "takes"
    folder.mkdir()
    shutil.copy(good, folder / "ok.wav")
    locked = folder / "locked ü"
    locked.mkdir()
    shutil.copy(good, locked / "hidden from us.wav")
    real_scandir = os.scandir

    def scandir(path=".") -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    files, errors = sources.scan_inputs([folder])
    assert files == [folder / "ok.wav"]
    assert errors == [{"path": str(locked), "message": (
        f"could not read the folder {locked} (permission denied), so its recordings were not "
        "imported; check its permissions, then import again")}]
    files, errors = sources.scan_inputs([locked])  # the input itself: one message, not two
    assert files == [] and len(errors) == 1 and "check its permissions" in errors[0]["message"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_a_really_unreadable_subfolder_is_named(tmp_path: Path, good: Path) -> None:
    folder = tmp_path / "takes"
    locked = folder / "locked"
    locked.mkdir(parents=True)
    shutil.copy(good, folder / "ok.wav")
    locked.chmod(0)
    try:
        files, errors = sources.scan_inputs([folder])
    finally:
        locked.chmod(0o755)
    assert files == [folder / "ok.wav"]
    assert [e["path"] for e in errors] == [str(locked)]


def test_json_with_a_lone_surrogate_round_trips(tmp_path: Path) -> None:
    name = os.fsdecode(BAD_FILE)
    path = atomic_write_json(tmp_path / "m.json", {"path": name, "ok": "é"})
    assert read_json(path) == {"path": name, "ok": "é"}
    path.read_bytes().decode("utf-8")  # the file itself is valid UTF-8
