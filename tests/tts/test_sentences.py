"""Long text cut into sentences per language, through the real front-ends' normalisers."""

from __future__ import annotations

import pytest

from backend.text import get
from backend.tts import sentences
from backend.tts.sentences import PAUSE_CLAUSE, PAUSE_PARAGRAPH, PAUSE_SENTENCE, split


def _split(text: str, language: str = "en", **kw: int) -> list[sentences.Piece]:
    return split(text, language, get(language).normalize_mapped, **kw)


def test_english_sentences_keep_abbreviations_numbers_and_the_typed_text() -> None:
    text = ("Mr. Smith paid $5.50 at 3 p.m. on Jan. 5th. Then he left! Did he?\n\n"
            "  Yes, said Dr. Jones…  \"Quite so.\" The end")
    pieces = _split(text)
    assert [p.text for p in pieces] == [
        "Mr. Smith paid $5.50 at 3 p.m. on Jan. 5th.", "Then he left!", "Did he?",
        "Yes, said Dr. Jones…", "\"Quite so.\"", "The end"]
    for p in pieces:  # each piece is where it stands in the text the user typed
        assert text[p.start:p.start + len(p.text)] == p.text
    assert [p.pause for p in pieces] == [PAUSE_SENTENCE, PAUSE_SENTENCE, PAUSE_PARAGRAPH,
                                         PAUSE_SENTENCE, PAUSE_SENTENCE, PAUSE_PARAGRAPH]


def test_a_lower_case_word_after_a_full_stop_does_not_start_a_sentence() -> None:
    assert [p.text for p in _split("We met at 9 a.m. and left. Fine.")] == \
        ["We met at 9 a.m. and left.", "Fine."]


def test_an_expanded_abbreviation_at_a_sentence_end_stays_with_its_sentence() -> None:
    # "etc." becomes "et cetera." and its full stop still ends the sentence
    assert [p.text for p in _split("Apples, pears etc. Then plums.")] == \
        ["Apples, pears etc.", "Then plums."]


def test_chinese_sentences_end_at_their_marks_without_spaces() -> None:
    text = "你好。今天天气很好！你呢？价格是3.5元。"
    assert [p.text for p in _split(text, "zh")] == ["你好。", "今天天气很好！", "你呢？",
                                                  "价格是3.5元。"]


def test_a_long_sentence_is_cut_at_commas_then_spaces() -> None:
    clause = "and then after a long while we walked on, "
    text = clause * 12 + "until the end."
    pieces = _split(text, max_chars=120)
    assert len(pieces) > 4
    norm = get("en").normalize
    assert all(len(norm(p.text)) <= 121 for p in pieces)
    assert all(p.text.endswith(",") for p in pieces[:-1])
    assert [p.pause for p in pieces] == [PAUSE_CLAUSE] * (len(pieces) - 1) + [PAUSE_PARAGRAPH]
    words = " ".join(p.text for p in pieces)
    assert words.split() == text.split()  # nothing lost, nothing doubled
    no_commas = _split("word " * 80, max_chars=100)
    assert len(no_commas) >= 4 and all(len(p.text) <= 101 for p in no_commas)
    assert " ".join(p.text for p in no_commas).split() == ["word"] * 80


@pytest.mark.parametrize("text", ["", "   \n\n  ", "... — !"])
def test_nothing_to_read_gives_no_pieces(text: str) -> None:
    assert _split(text) == []


def test_a_piece_with_nothing_to_read_gives_its_pause_to_the_one_before() -> None:
    pieces = _split("One.\n\n…\n\nTwo.")
    assert [p.text for p in pieces] == ["One.", "Two."]
    assert pieces[0].pause == PAUSE_PARAGRAPH
