"""The requests of ``LabelsTable`` (desktop/components/labels_table.py) and one editing of a
cell's text (Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WHAT = {"set": "the change", "split": "the split", "merge": "the merge",
        "delete": "the deletion", "replace": "the replacement", "flag": "the flag",
        "labels.undo": "the undo", "labels.redo": "the redo", "labels.get": "the labels"}


@dataclass
class LabelsRequest:
    cmd: str
    project: str
    op: dict[str, Any] | None = None
    sent_revision: int | None = None
    uncertain: bool = False  # on its way when the backend went away
    check: LabelsRequest | None = None  # a labels.get that decides whether to resend this

    @property
    def what(self) -> str:
        return WHAT.get(self.op["kind"] if self.op else self.cmd, "the change")

    def args(self) -> dict[str, Any]:
        return {"project": self.project, "op": self.op} if self.op else \
            {"project": self.project}


@dataclass
class TextEdit:
    """One editing of one row's text (one undo step)."""
    rid: str
    key: str
    original: str
    text: str
    changed_at: float | None = None  # typed since the last send
    sent: str | None = None  # the last text sent


def same_typing(last: LabelsRequest, req: LabelsRequest) -> bool:
    a, b = last.op or {}, req.op or {}
    return (a.get("kind") == b.get("kind") == "set" and a.get("coalesce") is not None
            and a.get("coalesce") == b.get("coalesce") and last.project == req.project)


def done_text(req: LabelsRequest, result: dict[str, Any]) -> str:
    op = req.op or {}
    if op.get("kind") == "replace":
        n = result.get("replaced")
        return f"Replaced {n} time(s)." if isinstance(n, int) else "Replaced."
    if req.cmd == "labels.undo":
        return "Undone."
    if req.cmd == "labels.redo":
        return "Redone."
    return ""
