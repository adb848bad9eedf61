"""Label files: GPT-SoVITS .list, VITS filelists (2 and 3 fields), the JSON form; bad files;
matching lines onto rows by path, clip name, GPT-SoVITS slicer name and span."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.labels import formats as fm
from backend.labels import matching

ROOT = "/data/Stimme 声音/prepared/0_gt_wavs"


def row(rid: str, clip: str | None, start: float, end: float, source: str = "talk.wav",
        stale: bool = False) -> dict:
    return {"id": rid, "source_id": "s" + source, "source_name": source, "start": start,
            "end": end, "clip": clip, "clip_path": f"{ROOT}/{clip}" if clip else None,
            "stale": stale}


ROWS = [row("r1", "abc_001_0000.wav", 0.5, 3.2), row("r2", "abc_001_0001.wav", 3.9, 7.05),
        row("r3", "abc_001_0002.wav", 8.0, 11.0), row("r4", "def_001_0000.wav", 0.0, 4.0,
                                                       source="единственный.flac"),
        row("r5", "old_000_0001.wav", 1.0, 2.0, stale=True)]


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


def entry(rid: str, text: str, speaker: str = "Anna", language: str | None = "en",
          path: str | None = "/x/a.wav") -> fm.Entry:
    return fm.Entry(rid, path, text, speaker, language, "talk.wav", 0.5, 3.2)


# .list ---------------------------------------------------------------------------------
def test_list_reads_every_case_gpt_sovits_reads(tmp_path: Path) -> None:
    text = ("/a/1.wav|spk|ZH|你好\n/a/2.wav|spk|ja|こんにちは\n/a/3.wav|spk|JP|はい\n"
            "/a/4.wav|spk|En| hello there \n/a/5.wav|spk|Ko|안녕\n/a/6.wav|spk|Yue|唔該\n")
    parsed = fm.parse(write(tmp_path, "x.list", text))
    assert parsed.format == fm.LIST and parsed.malformed == [] and parsed.notes == []
    assert [ln.language for ln in parsed.lines] == ["zh", "ja", "ja", "en", "ko", "yue"]
    assert parsed.lines[3].text == "hello there"  # whisper's leading space is not text
    assert parsed.lines[0].speaker == "spk" and parsed.lines[0].number == 1


def test_list_malformed_lines_are_named_by_number(tmp_path: Path) -> None:
    text = ("/a/1.wav|spk|EN|one\n\n/a/2.wav|spk|EN|two|three\n/a/3.wav|spk|DE|drei\n"
            "/a/4.wav|spk|EN\n|spk|EN|no path\n/a/5.wav|spk|EN|five\n")
    parsed = fm.parse(write(tmp_path, "x.list", text))
    assert [ln.number for ln in parsed.lines] == [1, 7]
    bad = {m["line"]: m for m in parsed.malformed}
    assert sorted(bad) == [3, 4, 5, 6]
    assert "5 field(s), expected 4" in bad[3]["reason"] and "'|' inside the text" in \
        bad[3]["reason"]
    assert bad[3]["path"] == "/a/2.wav"
    assert "unknown language 'DE'" in bad[4]["reason"] and "ZH, JA, EN, KO, YUE" in \
        bad[4]["reason"]
    assert "3 field(s), expected 4" in bad[5]["reason"]
    assert "no path" in bad[6]["reason"]


def test_list_written_as_gpt_sovits_writes_it() -> None:
    out = fm.write_list([entry("r1", " Hello. "), entry("r2", "你好", "Bo", "zh", "/x/b.wav"),
                         entry("r3", "唔該", language="yue")])
    assert out == "/x/a.wav|Anna|EN|Hello.\n/x/b.wav|Bo|ZH|你好\n/x/a.wav|Anna|YUE|唔該\n"


def test_entries_that_cannot_be_written_say_why() -> None:
    assert fm.entry_problem(entry("r", "fine"), fm.LIST) is None
    assert fm.entry_problem(entry("r", "  "), fm.LIST) == "no text"
    assert "pending" in fm.entry_problem(entry("r", "x", path=None), fm.VITS)
    assert fm.entry_problem(entry("r", "x", path=None), fm.JSON) is None
    assert "'|'" in fm.entry_problem(entry("r", "a | b"), fm.VITS)
    assert "speaker" in fm.entry_problem(entry("r", "x", speaker="a|b"), fm.LIST)
    assert "no language" in fm.entry_problem(entry("r", "x", language=None), fm.LIST)
    assert "'de'" in fm.entry_problem(entry("r", "x", language="de"), fm.LIST)
    assert fm.entry_problem(entry("r", "x", language="de"), fm.VITS) is None


# VITS ----------------------------------------------------------------------------------
def test_vits_two_fields_round_trip(tmp_path: Path) -> None:
    entries = [entry("r1", "Hello."), entry("r2", "World.", path="/x/ü b.wav")]
    p = write(tmp_path, "train.txt", fm.write_vits(entries, None))
    assert p.read_text("utf-8") == "/x/a.wav|Hello.\n/x/ü b.wav|World.\n"
    parsed = fm.parse(p)
    assert parsed.format == fm.VITS and parsed.malformed == [] and parsed.notes == []
    assert [(ln.path, ln.text, ln.speaker) for ln in parsed.lines] == \
        [("/x/a.wav", "Hello.", None), ("/x/ü b.wav", "World.", None)]


def test_vits_speaker_ids_with_their_names(tmp_path: Path) -> None:
    entries = [entry("r1", "one", "Zoë"), entry("r2", "two", "Anna"), entry("r3", "3", "Zoë")]
    ids = fm.speaker_ids(entries)
    assert ids == {"Anna": 0, "Zoë": 1}
    p = write(tmp_path, "train.txt", fm.write_vits(entries, ids))
    assert p.read_text("utf-8").splitlines()[0] == "/x/a.wav|1|one"
    write(tmp_path, "train.txt" + fm.SPEAKERS_SUFFIX, fm.speakers_json(ids))
    parsed = fm.parse(p, fm.VITS)
    assert [ln.speaker for ln in parsed.lines] == ["Zoë", "Anna", "Zoë"]
    assert "speaker names read from train.txt.speakers.json" in parsed.notes
    # without the names: texts still import, the ids are not taken as names
    fm.speakers_path(p).unlink()
    parsed = fm.parse(p, fm.VITS)
    assert [ln.speaker for ln in parsed.lines] == [None, None, None]
    assert any("no speakers file" in n for n in parsed.notes)


def test_vits_three_fields_bad_lines(tmp_path: Path) -> None:
    text = "/a/1.wav|0|one\n/a/2.wav|x|two\n/a/3.wav|three\n/a/4.wav|7|four\n"
    p = write(tmp_path, "f.txt", text)
    write(tmp_path, "f.txt" + fm.SPEAKERS_SUFFIX, fm.speakers_json({"Anna": 0}))
    parsed = fm.parse(p)
    assert [ln.number for ln in parsed.lines] == [1]
    bad = {m["line"]: m["reason"] for m in parsed.malformed}
    assert "speaker id 'x' is not a whole number" in bad[2]
    assert "2 field(s), expected 3" in bad[3]
    assert "speaker id 7 is not in the speakers file" in bad[4]


# JSON ----------------------------------------------------------------------------------
def test_json_round_trip(tmp_path: Path) -> None:
    entries = [entry("r1", "Hello"), fm.Entry("r2", None, "pending", "Anna", "en", "talk.wav",
                                              3.9, 7.05)]
    p = write(tmp_path, "l.json", fm.write_json(entries, "Стимме"))
    data = json.loads(p.read_text("utf-8"))
    assert data["format"] == "timbre-labels" and data["project"] == "Стимме"
    parsed = fm.parse(p)
    assert parsed.format == fm.JSON and parsed.malformed == []
    second = parsed.lines[1]
    assert (second.path, second.source, second.start, second.end, second.text) == \
        (None, "talk.wav", 3.9, 7.05, "pending")


def test_json_bad_rows_and_bad_json(tmp_path: Path) -> None:
    rows = [{"path": "/a.wav", "text": "ok"}, {"path": "/b.wav"}, "nope",
            {"source": "talk.wav", "start": 1, "text": "no end"},
            {"source": "talk.wav", "start": "x", "end": 2, "text": "bad start"},
            {"path": "/c.wav", "text": "t", "language": "English!"},
            {"path": "/d.wav", "text": "t", "language": "ZH"}]
    parsed = fm.parse(write(tmp_path, "l.json", json.dumps({"rows": rows})))
    assert [(ln.number, ln.language) for ln in parsed.lines] == [(1, None), (7, "zh")]
    assert [m["line"] for m in parsed.malformed] == [2, 3, 4, 5, 6]
    assert "not 'English!'" in parsed.malformed[-1]["reason"]
    with pytest.raises(fm.FormatError, match=r"b\.json is not valid JSON .*line 1"):
        fm.parse(write(tmp_path, "b.json", '{"rows": [}'), fm.JSON)
    with pytest.raises(fm.FormatError, match="no 'rows' list"):
        fm.parse(write(tmp_path, "c.json", '{"clips": []}'))


# bad files -----------------------------------------------------------------------------
def test_bad_files_have_clear_messages(tmp_path: Path) -> None:
    with pytest.raises(fm.FormatError, match=r"e\.list is empty"):
        fm.parse(write(tmp_path, "e.list", " \n\n"))
    latin = "/a/1.wav|spk|EN|one\n/a/2.wav|spk|EN|café\n".encode("latin-1")
    with pytest.raises(fm.FormatError, match=r"l\.list is not UTF-8 text: line 2 holds the "
                                             r"byte 0xE9; save the file as UTF-8"):
        fm.parse(write(tmp_path, "l.list", latin))
    utf16 = "/a/1.wav|spk|EN|one\n".encode("utf-16")
    with pytest.raises(fm.FormatError, match=r"is UTF-16 .* text; save it as UTF-8"):
        fm.parse(write(tmp_path, "u.list", utf16))
    with pytest.raises(fm.FormatError, match=r"m\.list does not exist|cannot read"):
        fm.parse(tmp_path / "m.list")
    with pytest.raises(fm.FormatError, match=r"has no usable GPT-SoVITS \.list line: line 1: "
                                             r"2 field\(s\), expected 4"):
        fm.parse(write(tmp_path, "v.txt", "/a/1.wav|one\n/a/2.wav|two\n"), fm.LIST)


def test_bom_and_crlf_are_read_and_noted(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + "/a/1.wav|spk|EN|one\r\n/a/2.wav|spk|ZH|二\r\n".encode()
    parsed = fm.parse(write(tmp_path, "w.list", data))
    assert [(ln.path, ln.text) for ln in parsed.lines] == [("/a/1.wav", "one"),
                                                           ("/a/2.wav", "二")]
    assert parsed.format == fm.LIST and parsed.malformed == []
    assert any("byte order mark" in n for n in parsed.notes)
    assert any("Windows line ends" in n for n in parsed.notes)


def test_sniffing_the_format(tmp_path: Path) -> None:
    assert fm.sniff("\n/a.wav|s|EN|t\n") == fm.LIST
    assert fm.sniff("/a.wav|t\n") == fm.VITS
    assert fm.sniff("/a.wav|0|t\n") == fm.VITS
    assert fm.sniff('  {"rows": []}') == fm.JSON


# matching ------------------------------------------------------------------------------
def lines(*paths: str) -> list[fm.Line]:
    return [fm.Line(i, p, f"text {i}") for i, p in enumerate(paths, 1)]


def test_match_by_absolute_path_and_by_clip_name() -> None:
    got = matching.match(lines(f"{ROOT}/abc_001_0001.wav",
                               r"D:\GPT-SoVITS\output\abc_001_0000.wav",
                               "relative/dir/def_001_0000.wav"), ROWS)
    assert [(ln.number, r["id"]) for ln, r in got.pairs] == [(1, "r2"), (2, "r1"), (3, "r4")]
    assert got.unmatched == []


def test_match_gpt_sovits_slicer_names() -> None:
    # 0.5-3.2 s at 32 kHz exactly; 3.92-7.0 s (another slicer's silences); 8.0-9.0 s (a
    # third of r3 only); a recording the project does not have
    got = matching.match(lines("/o/slicer_opt/talk.wav_0000016000_0000102400.wav",
                               "talk.wav_0000125440_0000224000.wav",
                               "talk.wav_0000256000_0000288000.wav",
                               "other.wav_0000000000_0000032000.wav"), ROWS)
    assert [(ln.number, r["id"]) for ln, r in got.pairs] == [(1, "r1"), (2, "r2")]
    why = {u["line"]: u["reason"] for u in got.unmatched}
    assert "no clip of talk.wav covers 8.00-9.00 s (nearest: 8.00-11.00 s)" in why[3]
    assert "slicer clip of 'other.wav', which is not a recording of this project" in why[4]


def test_match_whole_recordings_spans_and_what_does_not_match() -> None:
    js = [fm.Line(1, None, "a", source="talk.wav", start=3.9, end=7.05),
          fm.Line(2, None, "b", source="talk.wav", start=20.0, end=21.0)]
    got = matching.match(js, ROWS)
    assert [r["id"] for _, r in got.pairs] == ["r2"]
    assert "no clip of talk.wav covers 20.00-21.00 s" in got.unmatched[0]["reason"]
    got = matching.match(lines("C:/rec/единственный.flac", "talk.wav", "nothing.wav",
                               "old_000_0001.wav", "/x/abc_001_0000.wav"), ROWS)
    assert [(ln.number, r["id"]) for ln, r in got.pairs] == [(1, "r4"), (5, "r1")]
    why = {u["line"]: u for u in got.unmatched}
    assert "talk.wav is a whole recording, which this project cut into 3 clips" in \
        why[2]["reason"]
    assert why[3] == {"line": 3, "path": "nothing.wav", "reason": "no prepared clip or "
                      "recording of this project is named 'nothing.wav'"}
    assert "stale" in why[4]["reason"]


def test_two_recordings_of_the_same_name_are_not_guessed() -> None:
    twin = {**row("r9", "xyz_001_0000.wav", 0.5, 3.2), "source_id": "other id"}
    got = matching.match(lines("talk.wav_0000016000_0000102400.wav",
                               "talk.wav_0000256000_0000352000.wav"), [*ROWS, twin])
    assert [(ln.number, r["id"]) for ln, r in got.pairs] == [(2, "r3")]
    assert "two recordings of this project are named talk.wav" in got.unmatched[0]["reason"]


def test_a_second_line_for_the_same_clip_is_reported() -> None:
    got = matching.match(lines("abc_001_0000.wav", f"{ROOT}/abc_001_0000.wav"), ROWS)
    assert len(got.pairs) == 1
    assert got.unmatched == [{"line": 2, "path": f"{ROOT}/abc_001_0000.wav",
                              "reason": "the same clip as line 1"}]
