"""text.preview, text.check and text.languages through a real ``python -m backend serve``
and through the command functions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.commands import CommandError
from backend.commands import text as cmd
from backend.dataset.project import create_project
from backend.labels import store
from tests.project.test_server_project import Client


def _row(rid: str, text: str, language: str | None = "en", **extra: object) -> dict:
    return {"id": rid, "source_id": "s1", "start": 0.0, "end": 1.0, "text": text,
            "language": language, "speaker": None, "confidence": None, "flag": None,
            "origin": "edited", "engine": None, "words": None, "stale": False, **extra}


@pytest.fixture
def project(unicode_dir: Path) -> Path:
    root = unicode_dir / "标注 project"
    create_project(root, "标注")
    doc = store.LabelsDoc(rows=[
        _row("r1", "It costs $5.50 at 3:30."),
        _row("r2", "Smile 😀 please"),
        _row("r3", "你好，世界"),  # read as English: unsupported
        _row("r4", "我有2个苹果", "zh"),
        _row("r5", "今日は", "ja"),
        _row("r6", "", "en"),
        _row("r7", "Gone 😀", "en", stale=True),
        _row("r8", "No language, 12 words", None),
    ], next_id=9)
    store.save(root, doc)
    return root


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    c = Client()
    hello = c.wait(lambda m: m.get("type") == "hello")
    assert hello["protocol"]
    yield c
    c.call("shutdown")
    c.proc.wait(timeout=20)


def test_preview_through_the_server(client: Client) -> None:
    reply = client.call("text.preview", text="Dr. Smith owes me $5.50 😀", language="en")
    assert reply["type"] == "result", reply
    result = reply["result"]
    assert result["normalized"] == "Doctor Smith owes me five dollars and fifty cents 😀"
    assert "fˈaɪv dˈɑːlɚz" in result["phonemes"]
    assert result["unsupported"] == [{"char": "😀", "codepoint": "U+1F600",
                                      "name": "GRINNING FACE", "index": 24}]
    assert result["frontend"] == "en-espeak-vits" and result["language"] == "en"
    assert len(result["ids"]) == len(result["symbols"]) > 10

    zh = client.call("text.preview", text="2个", language="zh")["result"]
    assert zh["normalized"] == "两个" and zh["phonemes"] == "liang3 ge4"


def test_preview_errors_through_the_server(client: Client) -> None:
    ja = client.call("text.preview", text="今日は", language="ja")
    assert ja["type"] == "error" and ja["error"]["code"] == "unavailable"
    assert "pyopenjtalk" in ja["error"]["message"]
    unknown = client.call("text.preview", text="x", language="xx")
    assert unknown["error"]["code"] == "bad_arguments"
    assert "no text front-end" in unknown["error"]["message"]
    missing = client.call("text.preview", language="en")
    assert missing["error"]["code"] == "bad_arguments" and "'text'" in missing["error"]["message"]


def test_check_through_the_server(client: Client, project: Path) -> None:
    reply = client.call("text.check", project=str(project))
    assert reply["type"] == "result", reply
    result = reply["result"]
    assert [r["id"] for r in result["rows"]] == ["r2", "r3"]
    assert result["rows"][0]["unsupported"] == [
        {"char": "😀", "codepoint": "U+1F600", "name": "GRINNING FACE", "index": 6}]
    # "，" reads as ","
    assert [u["index"] for u in result["rows"][1]["unsupported"]] == [0, 1, 3, 4]
    assert result["checked"] == 6  # r6 (empty) and r7 (stale) are not checked
    assert result["frontends"] == {"en": "en-espeak-vits", "zh": "zh-pypinyin"}
    assert result["unavailable"][0]["language"] == "ja"
    assert result["unavailable"][0]["rows"] == ["r5"]
    assert "pyopenjtalk" in result["unavailable"][0]["message"]
    assert result["frontend"] is None


def test_check_with_one_language(project: Path) -> None:
    result = cmd.text_check({"project": str(project), "language": "zh"}, None)
    assert result["frontend"] == "zh-pypinyin" and not result["unavailable"]
    ids = [r["id"] for r in result["rows"]]
    assert "r4" not in ids and "r3" not in ids  # Chinese rows read fine as Chinese
    assert {"r1", "r2", "r5", "r8"} <= set(ids)  # Latin letters, emoji and kana are not
    r5 = next(r for r in result["rows"] if r["id"] == "r5")
    assert [u["name"] for u in r5["unsupported"]] == ["HIRAGANA LETTER HA"]


def test_check_errors(project: Path, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as exc:
        cmd.text_check({"project": str(tmp_path / "nothing here")}, None)
    assert exc.value.code == "not_found"
    with pytest.raises(CommandError) as exc:
        cmd.text_check({"project": str(project), "language": "ja"}, None)
    assert exc.value.code == "unavailable"
    (project / "labels.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        cmd.text_check({"project": str(project)}, None)
    assert "labels.json" in str(exc.value)


def test_check_without_labels(tmp_path: Path) -> None:
    create_project(tmp_path / "p", "p")
    result = cmd.text_check({"project": str(tmp_path / "p")}, None)
    assert result["rows"] == [] and result["checked"] == 0


def test_languages(client: Client) -> None:
    result = client.call("text.languages")["result"]
    by = {entry["language"]: entry for entry in result["languages"]}
    assert by["en"]["available"] and by["en"]["symbols"] == 178
    assert by["zh"]["available"] and not by["ja"]["available"]
    assert result["default"] == "en"
