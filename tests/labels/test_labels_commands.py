"""The labels.* commands on a really prepared project: every reply is on disk already, the
server can be killed between two edits, another process's job makes edits busy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backend.commands import CommandError
from backend.commands import labels as cmds
from backend.labels import store
from tests.project.helpers import ROOT
from tests.project.test_server_project import Client


def on_disk(root: Path) -> dict:
    return json.loads((root / store.LABELS_FILE).read_text("utf-8"))


def disk_rows(root: Path) -> dict:
    return {r["id"]: r for r in on_disk(root)["rows"]}


def test_get_makes_rows_for_the_clips(root: Path) -> None:
    got = cmds.get({"project": str(root)}, None)
    assert got["rows"] and got["revision"] == 1 and not got["can_undo"]
    assert got["summary"]["rows"] == len(got["rows"]) and got["summary"]["pending"] == 0
    assert got["default_speaker"] == "我的 声音 project"  # the name in project.json
    for r in got["rows"]:
        assert Path(r["clip_path"]).is_file() and Path(r["source_path"]).is_file()
        assert r["duration"] == pytest.approx(r["end"] - r["start"])
    assert [r["id"] for r in got["rows"]] == [f"r{i + 1}" for i in range(len(got["rows"]))]
    assert sorted(r["id"] for r in got["rows"]) == sorted(disk_rows(root))  # saved
    again = cmds.get({"project": str(root)}, None)
    assert again["revision"] == 1  # nothing new: nothing written


def test_every_reply_is_on_disk(root: Path) -> None:
    rows = cmds.get({"project": str(root)}, None)["rows"]
    r1, r2 = rows[0]["id"], rows[1]["id"]
    p = {"project": str(root)}
    res = cmds.apply({**p, "op": {"kind": "set", "ids": [r1], "fields": {"text": "hello"}}},
                     None)
    assert res["changed"][0]["text"] == "hello" and res["undo_label"] == f"edit text of row {r1}"
    assert disk_rows(root)[r1]["text"] == "hello" and on_disk(root)["revision"] == res["revision"]
    mid = (rows[0]["start"] + rows[0]["end"]) / 2
    res = cmds.apply({**p, "op": {"kind": "split", "id": r1, "at": mid, "text_at": None}}, None)
    new = [r["id"] for r in res["changed"] if r["id"] != r1][0]
    assert res["changed"][1]["pending"] and new in disk_rows(root)
    assert on_disk(root)["cut_sources"] == [rows[0]["source_id"]]
    res = cmds.apply({**p, "op": {"kind": "merge", "id": r1}}, None)
    assert res["removed"] == [new] and new not in disk_rows(root)
    res = cmds.apply({**p, "op": {"kind": "replace", "find": "HELLO", "replace": "hi"}}, None)
    assert res["replaced"] == 1 and disk_rows(root)[r1]["text"] == "hi"
    res = cmds.apply({**p, "op": {"kind": "flag", "ids": [r2], "flag": "user"}}, None)
    assert disk_rows(root)[r2]["flag"] == "user"
    res = cmds.apply({**p, "op": {"kind": "delete", "ids": [r2]}}, None)
    assert r2 not in disk_rows(root)
    for _ in range(4):  # delete, flag, replace, merge
        res = cmds.undo(p, None)
    assert r2 in disk_rows(root) and disk_rows(root)[new]["text"] == "hello"
    assert on_disk(root)["cut_sources"] == [rows[0]["source_id"]]  # the split is still done
    res = cmds.undo(p, None)
    assert res["removed"] == [new] and disk_rows(root)[r1]["text"] == "hello"
    assert on_disk(root)["cut_sources"] == [] and res["redo_label"] == f"split row {r1}"
    res = cmds.redo(p, None)
    assert new in disk_rows(root) and len(on_disk(root)["redo"]) == 4
    assert len(on_disk(root)["undo"]) == 2


@pytest.mark.parametrize(("op", "code", "needle"), [
    (None, "bad_arguments", "'op'"),
    ({"kind": "set", "ids": ["r999"], "fields": {"text": "x"}}, "not_found", "r999"),
    ({"kind": "split", "id": "r1", "at": -1}, "bad_arguments", "op.at"),
])
def test_errors(root: Path, op: object, code: str, needle: str) -> None:
    cmds.get({"project": str(root)}, None)
    before = on_disk(root)
    with pytest.raises(CommandError, match=needle) as err:
        cmds.apply({"project": str(root), "op": op}, None)
    assert err.value.code == code and on_disk(root) == before
    with pytest.raises(CommandError, match="nothing to undo") as err:
        cmds.undo({"project": str(root)}, None)
    assert err.value.code == "bad_arguments"
    with pytest.raises(CommandError, match="no project folder") as err:
        cmds.get({"project": str(root / "nope")}, None)
    assert err.value.code == "not_found"


def test_newer_labels_file_is_refused(root: Path) -> None:
    raw = json.dumps({"format": store.FORMAT + 1, "rows": []})
    (root / store.LABELS_FILE).write_text(raw, "utf-8")
    for call in (cmds.get, cmds.undo):
        with pytest.raises(CommandError, match="newer Timbre Studio") as err:
            call({"project": str(root)}, None)
        assert err.value.code == "bad_arguments"
    assert (root / store.LABELS_FILE).read_text("utf-8") == raw


HOLD = """
import sys, time
from backend.dataset import project_lock
with project_lock.acquire(sys.argv[1], "transcribe", via="the command line"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_job_of_another_process_makes_edits_busy(root: Path) -> None:
    rid = cmds.get({"project": str(root)}, None)["rows"][0]["id"]
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(root)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(CommandError, match="transcribe job") as err:
            cmds.apply({"project": str(root), "op": {"kind": "flag", "ids": [rid],
                                                     "flag": "user"}}, None)
        assert err.value.code == "busy"
        assert cmds.get({"project": str(root)}, None)["rows"][0]["flag"] is None  # reads
    finally:
        proc.communicate("\n", timeout=10)


def test_killed_server_loses_nothing(root: Path) -> None:
    client = Client()
    client.wait(lambda m: m.get("event") == "backend.ready", timeout=90)
    got = client.call("labels.get", project=str(root))["result"]
    rid = got["rows"][0]["id"]
    for text in ("h", "he", "hey"):
        reply = client.call("labels.apply", project=str(root),
                            op={"kind": "set", "ids": [rid], "fields": {"text": text},
                                "coalesce": "cell"})
        assert reply["type"] == "result", reply
    client.proc.kill()  # between this edit and the next
    client.proc.wait()
    client = Client()
    try:
        client.wait(lambda m: m.get("event") == "backend.ready", timeout=90)
        got = client.call("labels.get", project=str(root))["result"]
        assert got["rows"][0]["text"] == "hey" and got["undo_label"] == f"edit text of row {rid}"
        undone = client.call("labels.undo", project=str(root))["result"]  # one typing step
        assert undone["changed"][0]["text"] == "" and not undone["can_undo"]
        reply = client.call("labels.undo", project=str(root))
        assert reply["error"]["code"] == "bad_arguments"
    finally:
        client.send("shutdown")
        client.proc.wait(timeout=10)


def test_edits_from_two_threads_all_land(root: Path) -> None:
    """The table's commands and a job of the app write the labels at the same time (the
    commands run on worker threads): no edit is lost."""
    import threading

    rows = cmds.get({"project": str(root)}, None)["rows"]
    a, b = rows[0]["id"], rows[1]["id"]
    errors: list[BaseException] = []

    def typing(rid: str) -> None:
        try:
            for i in range(8):
                cmds.apply({"project": str(root), "op": {
                    "kind": "set", "ids": [rid], "fields": {"text": f"{rid} {i}"},
                    "coalesce": f"cell {rid}"}}, None)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=typing, args=(rid,)) for rid in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    saved = disk_rows(root)
    assert (saved[a]["text"], saved[b]["text"]) == (f"{a} 7", f"{b} 7")
    assert on_disk(root)["revision"] == 1 + 16


def test_read_only_project(root: Path, read_only_view) -> None:
    cmds.get({"project": str(root)}, None)
    before = (root / store.LABELS_FILE).read_bytes()
    ro = read_only_view(root)
    got = cmds.get({"project": str(ro)}, None)  # still shown
    assert got["rows"] and got["summary"]["rows"] == len(got["rows"])
    with pytest.raises(CommandError, match="read-only") as err:
        cmds.apply({"project": str(ro), "op": {"kind": "flag", "ids": [got["rows"][0]["id"]],
                                               "flag": "user"}}, None)
    assert err.value.code == "io_error" and str(ro) in err.value.message
    assert (root / store.LABELS_FILE).read_bytes() == before
