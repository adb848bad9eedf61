"""Text front-ends: how a text is read aloud, as a text-to-speech model's input symbols.

    from backend.text import get, read
    reading = read("It costs $5.50.", "en")   # Reading: normalized, phonemes, symbols, ids,
                                              # unsupported (named, index in the original)
    frontend = get("zh")                      # Frontend: language, name, symbols (the table),
                                              # normalize, to_symbols, to_ids, read, read_many

Front-ends: English (espeak-ng phonemes from espeakng-loader, the original VITS symbol
table), Chinese (pypinyin), Japanese (unavailable without pyopenjtalk). See docs/labels.md.
"""

from backend.text.frontend import (
    DEFAULT_LANGUAGE,
    Frontend,
    FrontendUnavailable,
    get,
    language_code,
    languages,
    read,
)
from backend.text.reading import Reading, Unsupported

__all__ = ["DEFAULT_LANGUAGE", "Frontend", "FrontendUnavailable", "Reading", "Unsupported",
           "get", "language_code", "languages", "read"]
