"""Cutting long recordings at word boundaries (``cut_at_words``) and the pieces the transcribe
job records for a cut source (``record.cut_pieces``), on word lists with known timings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.transcribe.cutting import PAD_SECONDS, cut_at_words
from backend.transcribe.engine import Transcript, Word
from backend.transcribe.record import LOW_CONFIDENCE, cut_pieces, flag_for, join_words


def say(text: str, start: float = 0.0, word_s: float = 0.3, gap: float = 0.05,
        pauses: dict[int, float] | None = None) -> list[Word]:
    """Words of ``text`` one after another; ``pauses``: {index of the word after which:
    seconds of silence}."""
    out, t = [], start
    for i, w in enumerate(text.split()):
        out.append(Word(w, round(t, 3), round(t + word_s, 3), 0.9))
        t += word_s + (pauses or {}).get(i, gap)
    return out


def texts(spans) -> list[str]:
    return [" ".join(w.text for w in words) for _, _, words in spans]


def test_cuts_at_the_sentence_end_with_a_pause() -> None:
    # "planks." ends a sentence (0.4 s pause); "smooth" has a longer pause but no stop
    words = say("The birch canoe slid on the smooth planks. Glue the sheet to the dark blue "
                "background.", pauses={6: 0.45, 7: 0.4})
    spans = cut_at_words(words, max_seconds=12)
    assert texts(spans) == ["The birch canoe slid on the smooth planks.",
                            "Glue the sheet to the dark blue background."]


def test_without_punctuation_the_longest_pauses_are_the_cuts() -> None:
    words = say("one two three four five six seven eight nine ten eleven twelve",
                pauses={2: 0.35, 5: 0.8, 8: 0.35})
    spans = cut_at_words(words, max_seconds=12)
    assert texts(spans) == ["one two three four five six", "seven eight nine ten eleven twelve"]
    # no long pause: a short recording stays whole
    assert len(cut_at_words(say("one two three four five six"), max_seconds=12)) == 1


def test_no_clip_is_longer_than_max_seconds() -> None:
    words = say(" ".join(f"w{i}" for i in range(120)))  # 42 s, no pause at all
    spans = cut_at_words(words, max_seconds=12, min_seconds=1.5)
    assert [w for _, _, ws in spans for w in ws] == words  # every word once, in order
    for start, end, ws in spans:
        assert end - start <= 12 + 1e-9
        assert start <= ws[0].start and ws[-1].end <= end
    assert len(spans) == 4  # as few cuts as the limit needs


def test_short_sentences_join_a_neighbour() -> None:
    # "Yes." is 0.3 s: alone it would be shorter than min_seconds
    words = say("Yes. I will bring the canoe down to the river tomorrow.", pauses={0: 0.5})
    spans = cut_at_words(words, max_seconds=12, min_seconds=1.5)
    assert texts(spans) == ["Yes. I will bring the canoe down to the river tomorrow."]
    # but a lone word longer than max_seconds is its own clip
    long_word = [Word("a", 0, 0.3), Word("aaaaah", 0.35, 14.0), Word("b", 14.05, 14.4)]
    assert texts(cut_at_words(long_word, max_seconds=12, min_seconds=0)) == ["a", "aaaaah", "b"]


def test_padding_never_reaches_a_neighbour_word() -> None:
    words = say("one two three. four five six.", start=0.05, pauses={2: 0.12})
    spans = cut_at_words(words, max_seconds=2.0, min_seconds=0.5, pad=0.1, duration=2.2)
    (a0, b0, w0), (a1, b1, w1) = spans
    assert a0 == 0.0  # never before the start of the recording
    assert b0 == pytest.approx((w0[-1].end + w1[0].start) / 2)  # a 0.12 s gap: half each
    assert b0 <= a1 and w0[-1].end < b0 and a1 < w1[0].start
    assert b1 == pytest.approx(2.2)  # never past the end of the recording
    wide = say("one two three. four five six.", start=1.0, pauses={2: 1.0})
    (c0, d0, _), (c1, _d1, _) = cut_at_words(wide, max_seconds=12, min_seconds=0.5)
    assert c0 == pytest.approx(1.0 - PAD_SECONDS)
    assert d0 == pytest.approx(wide[2].end + PAD_SECONDS)
    assert c1 == pytest.approx(wide[3].start - PAD_SECONDS)


def test_inputs() -> None:
    assert cut_at_words([]) == []
    assert cut_at_words([Word(" ", 0, 1)]) == []
    stored = [["hello", 0.1, 0.5, 0.9], ["there", 0.6, 1.0, None]]  # as labels.json has them
    (start, end, ws), = cut_at_words(stored, min_seconds=0)
    assert [w.text for w in ws] == ["hello", "there"] and ws[1].prob is None
    assert start == pytest.approx(0.0) and end == pytest.approx(1.1)
    with pytest.raises(ValueError, match="min_seconds"):
        cut_at_words(stored, max_seconds=1, min_seconds=2)


@st.composite
def word_lists(draw):
    n = draw(st.integers(1, 60))
    t, words = 0.0, []
    for i in range(n):
        t += draw(st.sampled_from([0.0, 0.02, 0.1, 0.3, 0.6, 1.5]))
        length = draw(st.floats(0.05, 2.0))
        end_mark = draw(st.sampled_from(["", "", "", ".", ","]))
        words.append(Word(f"w{i}{end_mark}", round(t, 3), round(t + length, 3)))
        t += length
    return words


@settings(max_examples=80, deadline=None)
@given(word_lists(), st.floats(2.0, 15.0), st.floats(0.0, 2.0))
def test_any_words_are_covered_once_and_never_cut_inside(words, max_s, min_s) -> None:
    spans = cut_at_words(words, max_seconds=max_s, min_seconds=min(min_s, max_s))
    assert [w for _, _, ws in spans for w in ws] == words
    prev_end = 0.0
    for start, end, ws in spans:
        assert prev_end - 1e-9 <= start <= ws[0].start and ws[-1].end <= end
        assert end - start <= max_s + 1e-6 or len(ws) == 1
        for w in words:  # a clip's ends are never inside a word
            assert not (w.start + 1e-6 < start < w.end - 1e-6)
            assert not (w.start + 1e-6 < end < w.end - 1e-6)
        prev_end = end


def test_pieces_are_in_seconds_of_the_recording() -> None:
    words = say("one two three four five six", start=0.2, pauses={2: 0.8})
    tr = Transcript(" ".join(w.text for w in words), "en", 0.8, tuple(words))
    pieces = cut_pieces([(10.0, 13.0, tr)], max_seconds=12, min_seconds=0.5)
    assert [p["text"] for p in pieces] == ["one two three", "four five six"]
    assert pieces[0]["start"] == pytest.approx(10.1) and pieces[0]["words"][0][1] == 10.2
    assert pieces[-1]["end"] <= 13.0  # never past the segment
    assert all(p["language"] == "en" and p["confidence"] == pytest.approx(0.9)
               for p in pieces)  # from the words' probabilities


def test_joining_words_and_flags() -> None:
    whisper = [Word(" Hello,", 0, 0.4), Word(" world.", 0.4, 0.8)]
    assert join_words(whisper, "en") == "Hello, world."
    assert join_words([Word("你好", 0, 0.4), Word("世界", 0.4, 0.8)], "zh") == "你好世界"
    assert join_words([Word("hello", 0, 0.4), Word("world", 0.4, 0.8)], "en") == "hello world"
    assert flag_for("", None) == "empty" and flag_for("  ", 0.9) == "empty"
    assert flag_for("words", LOW_CONFIDENCE - 0.01) == "low_confidence"
    assert flag_for("words", LOW_CONFIDENCE) is None and flag_for("words", None) is None
    assert LOW_CONFIDENCE == 0.5
