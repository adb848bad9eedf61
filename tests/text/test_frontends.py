"""The front-ends: readings, symbol tables, unsupported characters named where they are."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from backend.text import FrontendUnavailable, espeak, get, read
from backend.text.symbols import PINYIN, VITS_EN, intersperse, symbol_ids

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
MANIFEST = REFERENCE / "vits_state_dict_manifest.json"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / MANIFEST.name


def test_english_table_is_the_published_vits_table() -> None:
    facts = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert list(VITS_EN) == facts["symbols"]["list"]
    assert len(VITS_EN) == facts["symbols"]["count"] == 178
    emb = facts["variants"]["ljs_base"]["generator"]["enc_p.emb.weight"]
    assert emb[0] == len(VITS_EN)
    assert get("en").symbols == VITS_EN


def test_manifest_copy_matches_shared_reference() -> None:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is not beside this checkout")
    assert MANIFEST.read_bytes() == SHARED.read_bytes()


def test_ids_follow_the_table() -> None:
    ids = symbol_ids(VITS_EN)
    assert ids["_"] == 0 and ids[" "] == 16 and ids["A"] == 17 and ids["a"] == 43
    assert ids["'"] == 176  # listed twice: the later id, as the original code mapped it
    assert intersperse([5, 6]) == [0, 5, 0, 6, 0]


def test_english_reads_digits_out() -> None:
    """The VITS seed's training broke on Arabic digits its cleaner could not read: here they
    are words before phonemes, and every symbol is in the table."""
    reading = read("I have 3 cats and 1,000 dogs.", "en")
    assert reading.normalized == "I have three cats and one thousand dogs."
    assert "θɹˈiː" in reading.phonemes and "θˈaʊzənd" in reading.phonemes
    assert reading.ok and not reading.unsupported and not reading.unknown_symbols
    assert "".join(reading.symbols) == reading.phonemes
    assert reading.ids == [VITS_EN.index(s) if s != "'" else 176 for s in reading.symbols]
    assert all(not c.isdigit() for c in reading.phonemes)


def test_espeak_comes_from_the_wheel() -> None:
    import espeakng_loader

    read("hello", "en")
    used = espeak.backend_library()
    assert Path(used).resolve() == Path(espeakng_loader.get_library_path()).resolve()
    assert "site-packages" in used or "dist-packages" in used  # never /usr/lib's espeak-ng


def test_unsupported_characters_are_named_at_their_original_index() -> None:
    text = "Mr. Smith paid $5.50 😀 at 3:30 for 日本\u200b tea\x07."
    reading = read(text, "en")
    found = [(u.char, u.index, u.name) for u in reading.unsupported]
    assert found == [
        ("😀", text.index("😀"), "GRINNING FACE"),
        ("日", text.index("日"), "CJK UNIFIED IDEOGRAPH-65E5"),
        ("本", text.index("本"), "CJK UNIFIED IDEOGRAPH-672C"),
        ("\u200b", text.index("\u200b"), "ZERO WIDTH SPACE"),
        ("\x07", text.index("\x07"), "control character U+0007"),
    ]
    assert reading.to_json()["unsupported"][0] == {
        "char": "😀", "codepoint": "U+1F600", "name": "GRINNING FACE", "index": 21}
    assert not reading.ok
    assert reading.problems()[0] == "cannot read GRINNING FACE (U+1F600) at character 22"
    # the rest is still read
    assert "fˈaɪv dˈɑːlɚz" in reading.phonemes and "tˈiː" in reading.phonemes


def test_accents_fold_and_markup_is_reported() -> None:
    reading = read("Café *bold* | x_y", "en")
    assert reading.normalized.startswith("Cafe ")
    assert [u.char for u in reading.unsupported] == ["*", "*", "|", "_"]


def test_read_many_batches_espeak(monkeypatch: pytest.MonkeyPatch) -> None:
    frontend = get("en")
    texts = [f"Row {i} says {i * 7} things at 3:{i % 60:02d}." for i in range(200)]
    single = [frontend.read(t) for t in texts[:3]]
    espeak._cache.clear()
    backend = espeak._backend("en-us")
    calls = []
    original = backend.phonemize
    monkeypatch.setattr(backend, "phonemize", lambda lines, **kw: calls.append(len(lines))
                        or original(lines, **kw))
    many = frontend.read_many(texts)
    assert calls == [200]
    assert [r.to_json() for r in many[:3]] == [r.to_json() for r in single]
    frontend.read_many(texts)  # remembered: espeak is not asked again
    assert calls == [200]


def test_chinese_numbers_and_pinyin() -> None:
    reading = read("我有2个苹果，价格是¥5.5，-3度，50%。", "zh")
    assert reading.normalized == "我有两个苹果,价格是五点五元,负三度,百分之五十."
    assert reading.phonemes.startswith("wo3 you3 liang3 ge4 ping2 guo3 ,")
    assert reading.symbols[:6] == ["uo3", "iou3", "l", "iang3", "g", "e4"]
    assert reading.ok
    assert reading.ids == [PINYIN.index(s) for s in reading.symbols]


@pytest.mark.parametrize(("text", "spoken"), [
    ("10", "十"), ("15", "十五"), ("101", "一百零一"), ("1010", "一千零一十"),
    ("10086", "一万零八十六"), ("1230045", "一百二十三万零四十五"), ("100000000", "一亿"),
    ("3.14", "三点一四"), ("1999年", "一九九九年"), ("15:30", "十五点三十分"),
    ("8:05", "八点零五分"), ("1/3", "三分之一"), ("13800138000", "一三八零零一三八零零零"),
    ("２０个", "二十个"),
])
def test_chinese_numbers(text: str, spoken: str) -> None:
    assert get("zh").normalize(text) == spoken


def test_pinyin_table_covers_every_syllable_pypinyin_knows() -> None:
    from pypinyin.contrib.tone_convert import to_tone3
    from pypinyin.pinyin_dict import pinyin_dict

    zh = get("zh")
    table = set(PINYIN)
    syllables = {s for readings in pinyin_dict.values() for s in readings.split(",")}
    assert len(syllables) > 1000
    for syllable in syllables:
        parts = zh.split_syllable(to_tone3(syllable, neutral_tone_with_five=True))
        assert parts and set(parts) <= table, (syllable, parts)


def test_chinese_reports_what_it_cannot_read() -> None:
    text = "我用iPhone😀"
    reading = read(text, "zh")
    assert [(u.char, u.index) for u in reading.unsupported] == [
        (c, i) for i, c in enumerate(text) if i >= 2]
    assert reading.unsupported[0].name == unicodedata.name("i")
    assert reading.phonemes == "wo3 yong4"


def test_japanese_says_pyopenjtalk_is_missing() -> None:
    with pytest.raises(FrontendUnavailable, match="pyopenjtalk, which is not installed"):
        get("ja")


def test_language_codes() -> None:
    assert get("EN-us") is get("en") and get("zh_CN") is get("zh")
    with pytest.raises(FrontendUnavailable, match="no text front-end for Korean"):
        get("ko")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_unsupported_index_points_into_the_original(language: str) -> None:
    """Whatever the normaliser rewrites around them, each unreadable character is reported
    once, at an index of the original text that holds it."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pieces = {"en": ["Mr. ", "$5.50 ", "3:30", " 1999", "-2", "50%", "1st", "&", " cat ",
                     "etc. ", "No. 7", "—", "1,000", ".5", "#3"],
              "zh": ["我有", "2个", "15:30", "1999年", "¥5.5", "50%", "-3", "，", "1/2", "好"]}
    odd = ["😀", "\u200b", "\x07", "Ж", "🇫", "\ue000", "\U000e0001"] + (
        ["日"] if language == "en" else ["x", "Q"])
    frontend = get(language)

    @settings(max_examples=150, deadline=None, database=None)
    @given(st.lists(st.sampled_from(pieces[language] + odd), max_size=12))
    def check(parts: list[str]) -> None:
        text = "".join(parts)
        reading = frontend.read(text)
        expected = sorted(i for i, c in enumerate(text) if c in odd)
        assert sorted(u.index for u in reading.unsupported) == expected, (text, reading)
        assert all(text[u.index] == u.char for u in reading.unsupported)

    check()


def test_phonemes_the_table_lacks_are_reported() -> None:
    from backend.text.english import EnglishFrontend

    class Smaller(EnglishFrontend):
        symbols = tuple(s for s in VITS_EN if s != "ʊ")

    reading = Smaller().read("Hello, go home.")
    assert "ʊ" in reading.phonemes and "ʊ" not in reading.symbols
    assert reading.unknown_symbols == ["ʊ"] and not reading.unsupported and not reading.ok
    assert reading.problems() == ["the symbol table lacks 'ʊ' (U+028A)"]
    assert reading.ids == [Smaller.symbols.index(s) for s in reading.symbols]
