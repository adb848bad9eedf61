"""What the Train page shows of its training job's log lines (Qt-free).

Warnings and errors (pretrained keys that did not fit, the out-of-memory fallback, clips
left out) are listed as they come. The report of how each pretrained base was fitted is
kept apart, whatever its level: it starts with the base file's name (``G_1000.pth:
loaded 272 tensors``) and goes on with indented lines (``  adapted enc_p.emb.weight:
symbol table 50 -> 178 symbols; 46 mapped by symbol…``), the format of
``backend.train.pretrained.LoadReport.lines``; a clean fit is logged as info and would
otherwise never be seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath

WARNING_LEVELS = ("warning", "error")
MAX_WARNINGS = 5


class JobLog:
    def __init__(self, bases: Iterable[str | None] = ()) -> None:
        self.names = {PurePath(b).name for b in bases if b}
        self.warnings: list[str] = []
        self.report: list[str] = []
        self._in_report = False

    def take(self, level: str, message: str) -> str:
        """One log line; "report", "warning" or "" (not shown)."""
        if any(message.startswith(f"{name}: ") for name in self.names):
            self._in_report = True
        elif not (self._in_report and message.startswith("  ")):
            self._in_report = False
        if self._in_report:
            self.report.append(message)
            return "report"
        if level in WARNING_LEVELS:
            self.warnings = [*self.warnings, message][-MAX_WARNINGS:]
            return "warning"
        return ""

    def warnings_text(self) -> str:
        return "\n".join(f"⚠ {w}" for w in self.warnings)

    def report_text(self) -> str:
        return "Pretrained bases:\n" + "\n".join(self.report) if self.report else ""
