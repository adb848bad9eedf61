"""labels.json: atomic under SIGKILL, one locked read-modify-write, newer formats refused,
odd project paths."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backend.labels import store
from backend.labels.rows import new_row
from tests.project.helpers import ROOT

WRITER = r"""
import sys
from backend.labels import store
from backend.labels.rows import new_row
root = sys.argv[1]
def grow(doc):
    for _ in range(3000):
        r = new_row(doc.new_id(), "s1", 0.0, 1.0)
        r["text"] = "padding words so that every write takes a while " * 30
        doc.rows.append(r)
    doc.rows[0]["text"] = "version 0"
store.update(root, grow)
print("ready", flush=True)
i = 0
while True:
    i += 1
    def bump(doc, i=i):
        doc.rows[0]["text"] = f"version {i}"
    store.update(root, bump)
    print(i, flush=True)
"""


def test_sigkill_mid_writes_leaves_one_whole_version(tmp_path: Path) -> None:
    """Kill the writer the moment the file on disk looks shorter than a whole version (a
    writer that is not atomic is caught half-way), or after a while when it never does."""
    root = tmp_path / "a project"
    root.mkdir()
    path = store.labels_path(root)
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    whole = path.stat().st_size
    answered: list[int] = []
    reader = threading.Thread(target=lambda: answered.extend(int(x) for x in proc.stdout))
    reader.start()
    deadline = time.monotonic() + 30
    while len(answered) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop = time.monotonic() + 1.5
    while time.monotonic() < stop:
        try:
            if path.stat().st_size < whole - 100:
                break
        except FileNotFoundError:
            break
    proc.kill()
    proc.wait()
    reader.join()
    last = max(answered)
    assert last >= 3
    doc = store.load(root)  # readable: never half a file
    assert len(doc.rows) == 3000
    version = int(doc.rows[0]["text"].split()[1])
    assert version in (last, last + 1)  # the last answered write, or the one in flight
    assert doc.revision == version + 1


def test_two_threads_updating_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()

    def seed(doc: store.LabelsDoc) -> None:
        doc.rows += [new_row("a", "s1", 0, 1), new_row("b", "s1", 1, 2)]
        for r in doc.rows:
            r["text"] = ""

    store.update(root, seed)

    def worker(rid: str) -> None:
        for i in range(40):
            def add(doc: store.LabelsDoc, i: int = i) -> None:
                time.sleep(0.0005)  # widen the read-modify-write window
                doc.row(rid)["text"] += f"{i},"
            store.update(root, add)

    threads = [threading.Thread(target=worker, args=(rid,)) for rid in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    doc = store.load(root)
    expected = "".join(f"{i}," for i in range(40))
    assert doc.row("a")["text"] == expected and doc.row("b")["text"] == expected
    assert doc.revision == 81


def test_update_that_raises_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    store.update(root, lambda d: d.rows.append(new_row(d.new_id(), "s", 0, 1)))
    raw = store.labels_path(root).read_bytes()

    def broken(doc: store.LabelsDoc) -> None:
        doc.rows.clear()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.update(root, broken)
    assert store.labels_path(root).read_bytes() == raw
    store.update(root, lambda d: None)  # no change: not even the revision moves
    assert store.labels_path(root).read_bytes() == raw


def test_newer_format_is_refused_and_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    raw = json.dumps({"format": store.FORMAT + 1, "rows": [], "future": 1})
    store.labels_path(root).write_text(raw, "utf-8")
    with pytest.raises(store.LabelsError, match="newer Timbre Studio"):
        store.load(root)
    with pytest.raises(store.LabelsError, match="labels.json"):
        store.update(root, lambda d: d.rows.append(new_row("r1", "s", 0, 1)))
    assert store.labels_path(root).read_text("utf-8") == raw


def test_damaged_file_is_named(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    store.labels_path(root).write_text('{"rows": [', "utf-8")
    with pytest.raises(store.LabelsError, match=r"labels\.json cannot be read"):
        store.load(root)
    store.labels_path(root).write_text('{"format": 1}', "utf-8")
    with pytest.raises(store.LabelsError, match="not a labels file"):
        store.load(root)


def test_odd_project_path(tmp_path: Path) -> None:
    root = tmp_path / "我的 声音 project"
    root.mkdir()
    store.update(root, lambda d: d.rows.append({**new_row(d.new_id(), "s", 0, 1),
                                                "text": "你好 wörld"}))
    assert store.load(root).rows[0]["text"] == "你好 wörld"
    data = json.loads(store.labels_path(root).read_text("utf-8"))
    assert data["format"] == store.FORMAT and data["revision"] == 1 and data["next_id"] == 2


def test_bad_rows_are_named_and_missing_fields_filled(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    rows = [{"id": "r1", "source_id": "s", "start": 0, "end": 1, "text": "hi"},
            {"id": "r7", "source_id": "s", "start": 2, "end": 1}]
    store.labels_path(root).write_text(json.dumps({"format": 1, "rows": rows}), "utf-8")
    with pytest.raises(store.LabelsError, match="row 2 .* 0 <= 'start' < 'end'"):
        store.load(root)
    rows[1]["end"] = 3
    store.labels_path(root).write_text(json.dumps({"format": 1, "rows": rows,
                                                   "next_id": 2}), "utf-8")
    doc = store.load(root)
    assert doc.rows[0]["origin"] == "none" and doc.rows[0]["text"] == "hi"
    assert doc.new_id() == "r8"  # never an id that is taken
