"""Japanese needs pyopenjtalk (a dictionary-based reader); where it is not installed the
front-end is unavailable and says so, rather than reading Japanese wrongly."""

from __future__ import annotations

import importlib.util

from backend.text.frontend import Frontend, FrontendUnavailable

MISSING = ("Japanese text needs pyopenjtalk, which is not installed. Install it with "
           "'pip install pyopenjtalk' (on Windows and some Python versions it builds from "
           "source and needs CMake and a C++ compiler), then restart the app")


class JapaneseFrontend(Frontend):
    language = "ja"
    name = "ja-openjtalk"
    title = "Japanese: OpenJTalk"

    def __init__(self) -> None:
        if importlib.util.find_spec("pyopenjtalk") is None:
            raise FrontendUnavailable(MISSING, self.language)
        raise FrontendUnavailable("pyopenjtalk is installed, but this version of the app has "
                                  "no Japanese reading built on it yet", self.language)
