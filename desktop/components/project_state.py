"""The open project as the desktop sees it, built from a ``project.open`` result."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ProjectState:
    path: str
    project: dict[str, Any] = field(default_factory=dict)
    file_stem: str = ""  # the name as the backend uses it in file names
    sources: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    edits: Any = None
    manifest: str | None = None
    report_path: str | None = None
    report: dict[str, Any] | None = None
    report_error: str | None = None
    prepared_edits: dict[str, Any] = field(default_factory=dict)  # source id -> segments

    @property
    def name(self) -> str:
        return str(self.project.get("name") or Path(self.path).name)

    @property
    def sample_rate(self) -> int | None:
        rate = self.project.get("sample_rate")
        return rate if isinstance(rate, int) else None

    @property
    def model_kind(self) -> str:
        return str(self.project.get("model_kind") or "")

    def prepared_segments(self, source_id: str) -> Any:
        """The segments the source's prepared clips were cut with (None: the whole file,
        also when it was never prepared)."""
        return self.prepared_edits.get(source_id)

    @classmethod
    def from_open_result(cls, result: dict[str, Any]) -> ProjectState:
        """Build from ``project.open``'s result; reads the health report file if any."""
        path = result.get("path")
        if not isinstance(path, str) or not path:
            raise ValueError("project.open result has no 'path'")
        sources = result.get("sources")
        state = cls(
            path=path,
            project=dict(result.get("project") or {}),
            file_stem=result["file_stem"] if isinstance(result.get("file_stem"), str) else "",
            sources=[s for s in sources if isinstance(s, dict)] if isinstance(sources, list)
            else [],
            summary=dict(result.get("summary") or {}),
            edits=result.get("edits"),
            manifest=result.get("manifest") if isinstance(result.get("manifest"), str) else None,
            report_path=result.get("report") if isinstance(result.get("report"), str) else None,
            prepared_edits=dict(result["prepared_edits"])
            if isinstance(result.get("prepared_edits"), dict) else {},
        )
        state.load_report()
        return state

    @property
    def cache_dir(self) -> str:
        """Where the desktop's caches for this project go (the waveform editor's)."""
        return str(Path(self.path) / "cache")

    def segments_of(self, source_id: Any) -> Any:
        """The kept segments saved for a source (``project.open``'s ``edits``), or None."""
        edits = self.edits if isinstance(self.edits, dict) else {}
        entry = edits.get(str(source_id))
        return entry.get("segments") if isinstance(entry, dict) else None

    def set_segments(self, source_id: str, segments: Any) -> None:
        """Record a saved edit of a source (``None``: the edit was removed)."""
        if not isinstance(self.edits, dict):
            self.edits = {}
        if segments is None:
            self.edits.pop(source_id, None)
        else:
            self.edits[source_id] = {"segments": segments}

    def load_report(self) -> None:
        self.report, self.report_error = None, None
        if not self.report_path:
            return
        try:
            data = json.loads(Path(self.report_path).read_text(encoding="utf-8"))
        except OSError as exc:
            self.report_error = f"could not read the health report {self.report_path}: {exc}"
            return
        except ValueError as exc:
            self.report_error = f"the health report {self.report_path} is not valid JSON: {exc}"
            return
        if not isinstance(data, dict):
            self.report_error = f"the health report {self.report_path} is not a JSON object"
            return
        self.report = data
