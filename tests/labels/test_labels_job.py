"""The ``labels`` job on a really prepared project (espeak-ng speech) in a folder with spaces
and non-ASCII characters: .list round trip, a GPT-SoVITS .list from another tool, VITS
filelists in both forms, JSON, and the CLI's exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backend.dataset import project as proj
from backend.jobs import labels as labels_job
from backend.kernel import BadArgs, JobContext
from backend.labels import history, ops, store
from tests.labels.helpers import prepared_project
from tests.project.helpers import run_cli, speech

LANGS = ["EN", "ZH", "JA"]
TEXTS = ["Line {} says hello.", "第{}句话。", "こんにちは {}。"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("labels job")
    voices = top / "записи 录音"
    speech(voices, "Stimme ü 0.wav", 0, pitch=40)
    speech(voices, "声音 1.wav", 1, pitch=60)
    return prepared_project(top / "my voice dätaset – Ωmega 声", voices).root


@pytest.fixture
def root(base: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "项目 copy" / base.name
    shutil.copytree(base, dst)
    return dst


def run(args: dict, events: list | None = None) -> dict:
    def emit(event: str, data: dict) -> None:
        if events is not None:
            events.append((event, data))
    return labels_job.run(labels_job.prepare(args), JobContext("t", "labels", emit))


def view(root: Path) -> list[dict]:
    return labels_job.view_rows(proj.open_project(root), store.load(root))


def own_list(rows: list[dict], speaker: str = "Anna") -> str:
    return "".join(f"{r['clip_path']}|{speaker}|{LANGS[i % 3]}|{TEXTS[i % 3].format(i)}\n"
                   for i, r in enumerate(rows))


def test_list_round_trip_import_edit_export(root: Path, tmp_path: Path) -> None:
    rows = view(root)
    assert len(rows) >= 4 and all(r["clip_path"] for r in rows)
    original = own_list(rows)
    src = tmp_path / "from GPT-SoVITS 标注.list"
    src.write_text(original, "utf-8")
    events: list = []
    res = run({"project": str(root), "action": "import", "file": str(src)}, events)
    assert (res["format"], res["matched"], res["updated"], res["unmatched"]) == \
        ("list", len(rows), len(rows), [])
    changed = [d for e, d in events if e == "labels.changed"]
    assert [(d["project"], d["revision"]) for d in changed] == [(str(root), res["revision"])]
    doc = store.load(root)
    first = doc.row(rows[1]["id"])
    assert (first["text"], first["language"], first["speaker"], first["origin"]) == \
        ("第1句话。", "zh", "Anna", "imported")
    assert [e["label"] for e in doc.undo] == [f"import {src.name} ({len(rows)} rows)"]

    edited = rows[2]["id"]
    store.update(root, lambda d: ops.apply(d, {"kind": "set", "ids": [edited],
                                               "fields": {"text": "Now it is different."}}))
    out = tmp_path / "out dir ü" / "export.list"
    out.parent.mkdir()
    res = run({"project": str(root), "action": "export", "format": "list", "out": str(out)})
    assert (res["rows"], res["skipped"], res["out"]) == (len(rows), [], str(out))
    expected = original.splitlines(keepends=True)
    expected[2] = f"{rows[2]['clip_path']}|Anna|JA|Now it is different.\n"
    assert out.read_text("utf-8") == "".join(expected)
    assert not [p for p in out.parent.iterdir() if p.name != out.name]  # no temp file left

    # the import is one undo step: undo the edit, then the import, and every text is gone
    store.update(root, history.undo)
    store.update(root, history.undo)
    assert [r["text"] for r in store.load(root).rows] == [""] * len(rows)


def slicer_name(r: dict, name: str) -> str:
    a, b = (round(t * 100) * 320 for t in (r["start"], r["end"]))  # 10 ms hops at 32 kHz
    return f"D:\\GPT-SoVITS\\output\\slicer_opt\\{name}_{a:010d}_{b:010d}.wav"


def test_a_list_from_gpt_sovits_onto_an_existing_project(root: Path, tmp_path: Path) -> None:
    rows = view(root)
    names = {r["source_id"]: r["source_name"] for r in rows}
    body = [f"{slicer_name(r, names[r['source_id']])}|slicer_opt|EN| Text {i}."
            for i, r in enumerate(rows)]
    first = rows[0]
    body += ["D:\\x\\other.wav_0000000000_0000032000.wav|slicer_opt|EN|Not ours.",
             f"{first['source_name']}_0003200000_0003232000.wav|slicer_opt|EN|Too late.",
             "D:\\x\\a.wav|slicer_opt|EN|one|two",
             f"{slicer_name(rows[1], names[rows[1]['source_id']])}|slicer_opt|DE|Deutsch.",
             f"{slicer_name(first, first['source_name'])}|slicer_opt|EN|",
             f"{slicer_name(first, first['source_name'])}|slicer_opt|EN|Again."]
    src = tmp_path / "slicer_opt.list"  # as Windows Notepad saves it: BOM and CRLF
    src.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(body).encode("utf-8"))
    res = run({"project": str(root), "action": "import", "file": str(src)})
    n = len(rows)
    assert (res["matched"], res["updated"]) == (n, n)
    why = {u["line"]: u["reason"] for u in res["unmatched"]}
    assert sorted(why) == list(range(n + 1, n + 7))
    assert "slicer clip of 'other.wav', which is not a recording" in why[n + 1]
    assert f"no clip of {first['source_name']} covers 100.00-101.00 s" in why[n + 2]
    assert "5 field(s), expected 4" in why[n + 3]
    assert "unknown language 'DE'" in why[n + 4]
    assert "no text in the line" in why[n + 5]
    assert why[n + 6] == "the same clip as line 1"
    assert res["unmatched"][0]["path"] == "D:\\x\\other.wav_0000000000_0000032000.wav"
    assert any("byte order mark" in m for m in res["notes"])
    assert any("Windows line ends" in m for m in res["notes"])
    doc = store.load(root)
    assert [doc.row(r["id"])["text"] for r in rows] == [f"Text {i}." for i in range(n)]
    assert {doc.row(r["id"])["speaker"] for r in rows} == {"slicer_opt"}

    # the folder name GPT-SoVITS writes as the speaker can be left out
    src.write_text(f"{rows[0]['clip']}|slicer_opt|EN|Changed.\n", "utf-8")
    store.update(root, lambda d: ops.apply(d, {"kind": "set", "ids": [rows[0]["id"]],
                                               "fields": {"speaker": "Anna"}}))
    run({"project": str(root), "action": "import", "file": str(src), "speakers": False})
    assert store.load(root).row(rows[0]["id"])["speaker"] == "Anna"


def fill(root: Path, speakers: dict[str, str] | None = None) -> list[dict]:
    def write(doc: store.LabelsDoc) -> None:
        rows = labels_job.view_rows(proj.open_project(root), doc)  # synced, saved with it
        for i, r in enumerate(rows):
            ops.set_transcript(doc, r["id"], {"text": f"Clip {i} text.", "language": "en",
                                              "confidence": 0.9}, "test:model", None)
            if speakers:
                doc.row(r["id"])["speaker"] = speakers[r["source_id"]]
    store.update(root, write)
    return view(root)


def test_vits_filelists_both_forms(root: Path, tmp_path: Path) -> None:
    rows = fill(root)
    out = tmp_path / "train.txt"
    res = run({"project": str(root), "action": "export", "format": "vits", "out": str(out)})
    assert res["rows"] == len(rows) and "speakers" not in res
    rate = proj.open_project(root).sample_rate
    assert f"set data.sampling_rate to {rate}" in res["notes"][0]
    assert "32-bit float wavs" in res["notes"][1] and len(res["notes"]) == 2
    assert out.read_text("utf-8") == "".join(f"{r['clip_path']}|Clip {i} text.\n"
                                             for i, r in enumerate(rows))
    assert not labels_job.fm.speakers_path(out).exists()

    sids = sorted({r["source_id"] for r in rows})
    rows = fill(root, {sids[0]: "Борис", sids[1]: "Anna"})
    res = run({"project": str(root), "action": "export", "format": "vits", "out": str(out)})
    assert res["speakers"] == {"Anna": 0, "Борис": 1}
    ids = {"Борис": 1, "Anna": 0}
    assert out.read_text("utf-8") == "".join(
        f"{r['clip_path']}|{ids[r['speaker']]}|Clip {i} text.\n" for i, r in enumerate(rows))
    side = json.loads(Path(res["speakers_file"]).read_text("utf-8"))
    assert side["speakers"] == {"Anna": 0, "Борис": 1}

    # back in: changed texts and the speakers by their names
    out.write_text(out.read_text("utf-8").replace(" text.", " TEXT!"), "utf-8")
    store.update(root, lambda d: [r.update(speaker=None) for r in d.rows])
    res = run({"project": str(root), "action": "import", "file": str(out)})
    assert (res["format"], res["matched"], res["updated"]) == ("vits", len(rows), len(rows))
    doc = store.load(root)
    assert [(doc.row(r["id"])["text"], doc.row(r["id"])["speaker"]) for r in rows] == \
        [(f"Clip {i} TEXT!", r["speaker"]) for i, r in enumerate(rows)]

    two = tmp_path / "two.txt"
    res = run({"project": str(root), "action": "export", "format": "vits", "out": str(two),
               "speaker_ids": False})
    assert all(ln.count("|") == 1 for ln in two.read_text("utf-8").splitlines())


def test_json_carries_pending_rows_and_skips_stale(root: Path, tmp_path: Path) -> None:
    rows = fill(root)
    sid, last = rows[0]["source_id"], rows[-1]
    store.update(root, lambda d: d.rows.append({**d.row(rows[0]["id"]), "id": d.new_id(),
                                                "start": 90.0, "end": 91.0,
                                                "text": "an old clip's text"}))
    at = round((last["start"] + last["end"]) / 2, 3)
    store.update(root, lambda d: ops.apply(d, {"kind": "split", "id": last["id"], "at": at,
                                               "text_at": None}))
    listed = tmp_path / "l.list"
    res = run({"project": str(root), "action": "export", "format": "list", "out": str(listed)})
    skipped = {s["reason"].split(":")[0] for s in res["skipped"]}
    assert skipped == {"stale", "pending"}
    assert res["rows"] == len(rows) - 1

    out = tmp_path / "labels.json"
    res = run({"project": str(root), "action": "export", "format": "json", "out": str(out)})
    data = json.loads(out.read_text("utf-8"))
    pending = [r for r in data["rows"] if r["path"] is None]
    assert len(pending) == 2 and res["rows"] == len(rows) + 1
    assert [s["reason"].split(":")[0] for s in res["skipped"]] == ["stale"]
    assert all(r["source"] == last["source_name"] for r in pending)
    assert not any(r["start"] == 90.0 for r in data["rows"]) and sid

    for r in data["rows"]:
        r["text"] = r["text"].upper()
    out.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    res = run({"project": str(root), "action": "import", "file": str(out)})
    assert (res["format"], res["matched"], res["updated"], res["unmatched"]) == \
        ("json", len(rows) + 1, len(rows) + 1, [])
    texts = [r["text"] for r in view(root) if not r["stale"]]
    assert texts and all(t == t.upper() for t in texts)


def test_bad_arguments(root: Path, tmp_path: Path) -> None:
    with pytest.raises(BadArgs, match="nothing to export.*no clips|nothing to export.*no text"):
        labels_job.prepare({"project": str(root), "action": "export", "format": "list",
                            "out": str(tmp_path / "x.list")})
    fill(root)
    good = tmp_path / "g.list"
    good.write_text("/a.wav|s|EN|t\n", "utf-8")
    with pytest.raises(BadArgs, match="does not exist: create it"):
        labels_job.prepare({"project": str(root), "action": "export", "format": "list",
                            "out": str(tmp_path / "no such" / "x.list")})
    with pytest.raises(BadArgs, match="'format' is required"):
        labels_job.prepare({"project": str(root), "action": "export", "out": "x"})
    with pytest.raises(BadArgs, match="no usable VITS filelist line"):
        labels_job.prepare({"project": str(root), "action": "import", "format": "vits",
                            "file": str(good)})
    with pytest.raises(BadArgs, match="'action' must be export or import"):
        labels_job.prepare({"project": str(root), "action": "merge"})
    empty = tmp_path / "empty project"
    proj.create_project(empty)
    with pytest.raises(BadArgs, match="no clips to put the texts on yet: .* run Prepare"):
        labels_job.prepare({"project": str(empty), "action": "import", "file": str(good)})
    (root / "labels.json").write_text("{broken", "utf-8")
    with pytest.raises(BadArgs, match="labels.json cannot be read"):
        labels_job.prepare({"project": str(root), "action": "import", "file": str(good)})


def test_cli_exit_codes(root: Path, tmp_path: Path) -> None:
    rows = fill(root)
    out = tmp_path / "导出 list" / "all.list"
    out.parent.mkdir()
    rc, summary, err = run_cli("labels", "export", "--project", str(root), "--format", "list",
                               "--out", str(out))
    assert rc == 0, err
    assert summary["result"]["rows"] == len(rows) and out.is_file()

    bad = tmp_path / "latin.list"
    bad.write_bytes(f"{rows[0]['clip']}|s|EN|café\n".encode("latin-1"))
    rc, summary, err = run_cli("labels", "import", "--project", str(root), "--file", str(bad))
    assert rc == 2 and summary["error"]["code"] == "bad_arguments"
    assert "is not UTF-8 text: line 1 holds the byte 0xE9" in err

    out.write_text(out.read_text("utf-8").replace("Clip 0 text.", "Clip zero."), "utf-8")
    rc, summary, err = run_cli("labels", "import", "--project", str(root), "--file", str(out),
                               "--ignore-speakers")
    assert rc == 0, err
    assert (summary["result"]["matched"], summary["result"]["updated"]) == (len(rows), 1)
    assert store.load(root).row(rows[0]["id"])["text"] == "Clip zero."


def test_through_the_server_import_is_one_undo_step(root: Path, tmp_path: Path) -> None:
    """What the Labels page does: job.start labels import, then labels.get and labels.undo."""
    from tests.project.test_server_project import Client

    rows = view(root)
    src = tmp_path / "in.list"
    src.write_text(own_list(rows), "utf-8")
    client = Client()
    try:
        client.wait(lambda m: m.get("event") == "backend.ready", timeout=90)
        bad = client.call("job.start", kind="labels", args={"project": str(root),
                                                            "action": "import",
                                                            "file": str(tmp_path / "no.list")})
        assert bad["type"] == "error" and bad["error"]["code"] == "bad_arguments"
        assert "no.list" in bad["error"]["message"]
        started = client.call("job.start", kind="labels", args={
            "project": str(root), "action": "import", "file": str(src), "format": "list"})
        done = client.finished(started["result"]["job_id"])
        assert done["status"] == "ok" and done["result"]["updated"] == len(rows), done
        got = client.call("labels.get", project=str(root))["result"]
        assert got["undo_label"] == f"import in.list ({len(rows)} rows)"
        assert [r["text"] for r in got["rows"]] == [TEXTS[i % 3].format(i)
                                                    for i in range(len(rows))]
        assert client.call("labels.undo", project=str(root))["type"] == "result"
        got = client.call("labels.get", project=str(root))["result"]
        assert [r["text"] for r in got["rows"]] == [""] * len(rows) and not got["can_undo"]
    finally:
        client.send("shutdown")
        client.proc.wait(timeout=20)
