"""Mandarin: numbers as characters (``zh_normalize``), then pinyin from pypinyin (TONE3 with
tone sandhi, neutral tone 5), each syllable as an initial and a tone-numbered final of the
``PINYIN`` table. Latin letters and other scripts are not read (reported)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from backend.text import zh_normalize
from backend.text.frontend import Frontend, FrontendUnavailable
from backend.text.reading import Mapped
from backend.text.symbols import PINYIN, PINYIN_PUNCTUATION

_NASAL_RE = re.compile(r"^(h?)(m|n|ng)([1-5])$")


class ChineseFrontend(Frontend):
    language = "zh"
    name = "zh-pypinyin"
    title = "Chinese (Mandarin): pypinyin initials and tone-numbered finals"
    symbols = PINYIN

    def __init__(self) -> None:
        super().__init__()
        try:
            from pypinyin import Style, lazy_pinyin
            from pypinyin.contrib.tone_convert import to_finals_tone3, to_initials
            from pypinyin.pinyin_dict import pinyin_dict
        except ImportError as exc:
            raise FrontendUnavailable("Chinese text needs the pypinyin package, which is not "
                                      "installed: pip install pypinyin", self.language) from exc
        self._lazy, self._style = lazy_pinyin, Style.TONE3
        self._finals, self._initials = to_finals_tone3, to_initials
        self._dict = pinyin_dict
        self._split: dict[str, list[str]] = {}

    def normalize_mapped(self, text: str) -> Mapped:
        return zh_normalize.normalize_mapped(text)

    def readable(self, ch: str) -> bool:
        return ch in PINYIN_PUNCTUATION or ord(ch) in self._dict

    def syllables(self, han: str) -> list[str]:
        """TONE3 pinyin of a run of Chinese characters, one syllable per character."""
        return self._lazy(han, style=self._style, neutral_tone_with_five=True,
                          tone_sandhi=True)

    def split_syllable(self, syllable: str) -> list[str]:
        """"zhong1" -> ["zh", "ong1"], "ju4" -> ["j", "v4"], "n2" -> ["n2"]."""
        if syllable not in self._split:
            self._split[syllable] = self._split_syllable(syllable)
        return self._split[syllable]

    def _split_syllable(self, syllable: str) -> list[str]:
        nasal = _NASAL_RE.match(syllable)
        if nasal:
            head, body, tone = nasal.groups()
            return [s for s in (head, body + tone) if s]
        initial = self._initials(syllable, strict=True)
        final = self._finals(syllable, strict=True, neutral_tone_with_five=True)
        return [s for s in (initial, final) if s]

    def phonemize(self, lines: Sequence[str]) -> list[str]:
        return [self._line(line) for line in lines]

    def _line(self, line: str) -> str:
        words: list[str] = []
        for run in re.findall(r"[^,.!?;:…—\s]+|[,.!?;:…—]", line):
            if run in PINYIN_PUNCTUATION:
                words.append(run)
            else:
                words.extend(self.syllables(run))
        return " ".join(words)

    def split_symbols(self, phonemes: str) -> list[str]:
        out: list[str] = []
        for word in phonemes.split():
            out.extend([word] if word in PINYIN_PUNCTUATION else self.split_syllable(word))
        return out
