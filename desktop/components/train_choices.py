"""What the Train page knows per model kind (Qt-free): the ``train.suggest`` answer of each
kind, the project's runs (each kind shows its own latest run), and the form values the
user left when switching to the other kind (switching back restores them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from desktop.components.train_kind import RVC, kind_label, kind_of
from desktop.components.train_runs import TrainRun, latest_run
from desktop.components.train_settings import TrainSettings, TrainSuggestion, form_settings


class TrainChoices:
    def __init__(self) -> None:
        self.suggestions: dict[str, TrainSuggestion] = {}
        self.errors: dict[str, str] = {}  # kind -> why there is no suggestion for it
        self.runs: list[TrainRun] = []
        self.left: dict[str, TrainSettings] = {}
        self.kind = RVC

    def reset(self, kind: str) -> None:
        """Another project: nothing known yet; the form starts at ``kind``."""
        self.suggestions.clear()
        self.errors.clear()
        self.runs = []
        self.left.clear()
        self.kind = kind_of(kind)

    @property
    def suggestion(self) -> TrainSuggestion | None:
        return self.suggestions.get(self.kind)

    @property
    def error(self) -> str:
        return self.errors.get(self.kind, "")

    def take_suggestion(self, asked: str, result: dict[str, Any]) -> bool:
        """Keep a ``train.suggest`` answer to a request for kind ``asked``; True when it is
        the first for that kind. An answer for another kind (a backend that knows only
        one) is kept under its own kind and the asked one is said to have none."""
        sug = TrainSuggestion.from_result(result)
        kind = kind_of(result.get("model"), asked)
        first = kind not in self.suggestions
        self.suggestions[kind] = sug
        self.errors.pop(kind, None)
        if kind != asked:
            self.errors[asked] = (f"The backend has no suggestion for {kind_label(asked).lower()}"
                                  f" training (it answered for {kind_label(kind).lower()}).")
        return first and kind == asked

    def shown_run(self, kind: str | None = None) -> TrainRun | None:
        """The run of ``kind`` (the current one) trained most recently."""
        return latest_run(self.runs, kind or self.kind)

    def switch(self, kind: str, values: TrainSettings) -> None:
        """The user picked ``kind``; ``values`` are what the form held for the other one
        (its kind field already says the new one)."""
        self.left[self.kind] = replace(values, model=self.kind)
        self.kind = kind_of(kind)

    def form_values(self, keep_left: bool = True) -> TrainSettings:
        """The form for the current kind: what the user left there (``keep_left``), else
        the suggestion under the shown run's own settings when it resumes."""
        if keep_left and self.kind in self.left:
            return self.left.pop(self.kind)
        self.left.pop(self.kind, None)
        return form_settings(self.suggestion, self.shown_run(), self.kind, self.runs)
