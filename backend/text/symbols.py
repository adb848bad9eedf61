"""Symbol tables: the ordered list of a model's input symbols (a symbol's id is its index).

A model stores its table, so a base trained with another table can be mapped symbol by symbol.

``VITS_EN``: the table of the published English VITS models (LJ Speech, VCTK): 178 entries,
the first dimension of their ``enc_p.emb.weight``: the pad ``_``, 16 punctuation marks (space
included), the 52 ASCII letters and 109 IPA characters (stress and length marks, tone arrows).
The apostrophe appears twice (ids 174 and 176); as in the original code the later id is the
one text maps to.

``PINYIN``: Mandarin as initials and tone-numbered finals (pypinyin's strict ``TONE3`` forms,
``v`` for ü, tone 5 for the neutral tone), after the pad and the punctuation.
"""

from __future__ import annotations

from collections.abc import Sequence

PAD = "_"

_VITS_PUNCTUATION = ';:,.!?¡¿—…"«»“” '
_VITS_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VITS_IPA = ("ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎ"
             "ʏʑʐʒʔʡʕʢǀǁǂǃˈˌːˑʼʴʰʱʲʷˠˤ˞↓↑→↗↘'\u0329'ᵻ")

VITS_EN: tuple[str, ...] = (PAD, *_VITS_PUNCTUATION, *_VITS_LETTERS, *_VITS_IPA)
VITS_EN_PUNCTUATION = _VITS_PUNCTUATION.strip()

PINYIN_PUNCTUATION = (",", ".", "!", "?", ";", ":", "…", "—")
PINYIN_INITIALS = ("b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x",
                   "zh", "ch", "sh", "r", "z", "c", "s")
PINYIN_FINALS = ("a", "o", "e", "ê", "er", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng",
                 "ong", "i", "ia", "ie", "iao", "iou", "ian", "in", "iang", "ing", "iong",
                 "u", "ua", "uo", "uai", "uei", "uan", "uen", "uang", "ueng",
                 "v", "ve", "van", "vn", "m", "n", "ng")
TONES = ("1", "2", "3", "4", "5")

PINYIN: tuple[str, ...] = (PAD, *PINYIN_PUNCTUATION, *PINYIN_INITIALS,
                           *(f + t for f in PINYIN_FINALS for t in TONES))


def symbol_ids(table: Sequence[str]) -> dict[str, int]:
    """symbol -> id; a symbol listed twice maps to its last id (as the original VITS did)."""
    return {s: i for i, s in enumerate(table)}


def intersperse(ids: Sequence[int], blank: int = 0) -> list[int]:
    """``add_blank`` of VITS configs: the blank id before, between and after the symbols."""
    out = [blank] * (2 * len(ids) + 1)
    out[1::2] = ids
    return out
