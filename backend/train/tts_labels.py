"""The checks of the labelled clips a text-to-speech run learns from, made before training
(the train job) and for ``train.suggest``; the rows themselves are listed by
``backend/train/vits_data.py`` (``labelled_rows``: text, prepared clip, table ``line``,
``speaker_name``), the one listing the run's data is made from.

A run trains on the labelled rows of one language (a row without one is English, as the text
check reads it). Rows are named by their line in the Labels table (1-based, in the table's
order: recordings in the project's order, then time) and their clip as the table's Clip
column shows it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from backend.dataset import project as proj
from backend.text import frontend as fe
from backend.train import vits_data as vd

MAX_NAMED = 5  # unreadable rows named in a message; the details hold them all


class LabelsProblem(ValueError):
    """The labelled clips cannot be trained on; the message says why and what to do."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


@dataclass
class Labelled:
    rows: list[dict[str, Any]]  # vits_data.labelled_rows that have a prepared clip

    def languages(self) -> Counter[str]:
        return vd.language_counts(self.rows)

    def default_language(self) -> str | None:
        """The most common language of the labelled rows (the first in the table on a tie)."""
        counts = self.languages()
        return counts.most_common(1)[0][0] if counts else None

    def of_language(self, language: str) -> list[dict[str, Any]]:
        return [r for r in self.rows if vd.row_language(r) == language]


def seconds(rows: list[dict[str, Any]]) -> float:
    return sum(float(r["duration"]) for r in rows)


def _time(seconds: float) -> str:
    """``m:ss.s`` (``h:mm:ss`` from an hour on), as the Labels table writes it."""
    secs, tenth = divmod(int(round(max(seconds, 0.0) * 10)), 10)
    minutes, sec = divmod(secs, 60)
    if minutes >= 60:
        return f"{minutes // 60}:{minutes % 60:02d}:{sec:02d}"
    return f"{minutes}:{sec:02d}.{tenth}"


def clip_label(row: dict[str, Any]) -> str:
    """The clip as the Labels table's Clip column names it: ``take 1.wav 0:03.2–0:05.8``."""
    source = str(row.get("source_name") or row.get("source_id") or "")
    return f"{source} {_time(float(row['start']))}–{_time(float(row['end']))}"


def labelled(project: proj.Project) -> Labelled:
    """The project's labelled rows with a prepared clip (``LabelsProblem`` for a damaged
    ``labels.json``, named). Nothing is written."""
    try:
        rows = vd.labelled_rows(project.root)
    except proj.ProjectError as exc:  # a LabelsError too
        raise LabelsProblem(str(exc)) from exc
    return Labelled([r for r in rows if r["clip"]])


def nothing_labelled(project: proj.Project) -> str:
    if not project.path(proj.MANIFEST_FILE).is_file():
        return (f"project {project.root.name} has no prepared clips: run Prepare on the "
                "Dataset page, then give the clips their text on the Labels page")
    return (f"project {project.root.name} has no labelled clips: text-to-speech learns from "
            "clips with their text; transcribe or type the texts on the Labels page first")


def frontend(language: str) -> fe.Frontend:
    try:
        return fe.get(language)
    except fe.FrontendUnavailable as exc:
        raise LabelsProblem(exc.message, {"language": language}) from exc


def check_texts(rows: list[dict[str, Any]], language: str) -> None:
    """``LabelsProblem`` naming every row (line, clip, character) whose text the front-end
    of ``language`` cannot read completely (the first ``MAX_NAMED`` in the message, all in
    ``details["unreadable"]``)."""
    from backend.text.check import check_rows

    result = check_rows(rows, language)
    for missing in result["unavailable"]:
        raise LabelsProblem(missing["message"], {"language": language})
    if not result["rows"]:
        return
    by_id = {r["id"]: r for r in rows}
    found = [{"id": r["id"], "line": by_id[r["id"]]["line"], "clip": by_id[r["id"]]["clip"],
              "shown": clip_label(by_id[r["id"]]), "problems": r["problems"],
              "unsupported": r["unsupported"]} for r in result["rows"]]
    named = "; ".join(f"line {f['line']} ({f['shown']}): {', '.join(f['problems'])}"
                      for f in found[:MAX_NAMED])
    more = f"; and {len(found) - MAX_NAMED} more" if len(found) > MAX_NAMED else ""
    title = fe.LANGUAGE_NAMES.get(language, language)
    raise LabelsProblem(
        f"{len(found)} of the {result['checked']} labelled texts hold what the {title} text "
        f"front-end cannot read: {named}{more}. Write it out as words or remove it on the "
        "Labels page (Check texts finds them all), then train again",
        {"unreadable": found})
