"""Files the app makes get the user's normal permissions; project folders made from a typed
name stay inside the chosen folder, and the name is kept as typed."""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.audio.analysis import analyze, cache_file
from backend.commands import CommandError
from backend.commands import project as project_cmd
from backend.dataset.project import create_project, open_project
from backend.fsutil import atomic_write_bytes, atomic_write_json, create_temp_file
from tests.dataset.conftest import tone, write

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def umask() -> Iterator[object]:
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_project_files_follow_the_umask(tmp_path: Path, umask) -> None:
    project = create_project(tmp_path / "p")
    for rel in ("project.json", "sources.json", "edits.json"):
        assert oct(_mode(project.root / rel)) == oct(0o644), rel
    project.set_settings({"threshold_db": -45.0})  # a rewrite too
    assert oct(_mode(project.root / "project.json")) == oct(0o644)
    for mask, expected in ((0o002, 0o664), (0o077, 0o600), (0o027, 0o640)):
        umask(mask)
        path = atomic_write_json(tmp_path / f"m{mask:o}.json", {"a": 1})
        assert oct(_mode(path)) == oct(expected)
        assert oct(_mode(atomic_write_bytes(tmp_path / f"b{mask:o}", b"x"))) == oct(expected)


def test_temp_files_are_new_and_exclusive(tmp_path: Path, umask) -> None:
    fd, name = create_temp_file(tmp_path, ".tmp-x.", ".part")
    os.close(fd)
    assert Path(name).parent == tmp_path and Path(name).name.startswith(".tmp-x.")
    assert oct(_mode(Path(name))) == oct(0o644)
    fd2, name2 = create_temp_file(tmp_path, ".tmp-x.", ".part")
    os.close(fd2)
    assert name2 != name


def test_waveform_cache_follows_the_umask(tmp_path: Path, umask) -> None:
    src = write(tmp_path / "a.wav", tone(220, 0.5, 16000), 16000)
    analyze(src, tmp_path / "cache")
    assert oct(_mode(cache_file(src, tmp_path / "cache"))) == oct(0o644)


def test_no_backend_module_makes_private_temp_files() -> None:
    """mkstemp and NamedTemporaryFile make 0600 files: outputs use create_temp_file."""
    found = []
    for path in sorted((ROOT / "backend").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("mkstemp",
                                                                  "NamedTemporaryFile"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


@pytest.mark.parametrize(("typed", "folder"), [
    ("../../x", "x"), ("AC/DC", "AC_DC"), ("CON", "CON_"), ("声音 模型", "声音 模型"),
    ("name. ", "name"), ("..", "untitled")])
def test_create_in_a_parent_names_the_folder_safely(tmp_path: Path, typed: str,
                                                    folder: str) -> None:
    parent = tmp_path / "deep" / "projects é"
    parent.mkdir(parents=True)
    res = project_cmd.create({"parent": str(parent), "name": typed}, None)
    assert res["path"] == str(parent / folder)
    assert res["project"]["name"] == typed and res["file_stem"] == folder
    assert sorted(p.name for p in tmp_path.rglob("*") if p.parent == tmp_path) == ["deep"]
    assert json.loads((parent / folder / "project.json").read_text("utf-8"))["name"] == typed
    opened = project_cmd.open_({"path": res["path"]}, None)
    assert opened["project"]["name"] == typed and opened["file_stem"] == folder


def test_create_in_a_parent_needs_a_name_and_refuses_a_used_folder(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="'name' is required with 'parent'"):
        project_cmd.create({"parent": str(tmp_path)}, None)
    project_cmd.create({"parent": str(tmp_path), "name": "AC/DC"}, None)
    with pytest.raises(CommandError, match="already holds a project; open it instead"):
        project_cmd.create({"parent": str(tmp_path), "name": "AC\\DC"}, None)


def test_hand_edited_name_is_shown_as_typed_and_used_safely(tmp_path: Path) -> None:
    root = create_project(tmp_path / "p", name="plain").root
    meta = json.loads((root / "project.json").read_text("utf-8"))
    meta["name"] = "../../escape\x00"
    (root / "project.json").write_text(json.dumps(meta), "utf-8")
    project = open_project(root)
    assert project.name == "../../escape\x00" and project.file_stem == "escape_"
