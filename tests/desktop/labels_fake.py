"""A stand-in for the backend's ``labels.*`` commands, in memory (tests of the Qt-free table).

It answers as docs/protocol.md ("Labels") says: ``labels.get`` gives the rows and the undo
state; ``labels.apply`` applies one op and answers ``{revision, changed, removed, can_undo,
can_redo, undo_label, redo_label}``; ``labels.undo`` / ``labels.redo`` likewise. Undo keeps a
snapshot per step; consecutive ``set``s with the same ``coalesce`` key are one step.

``Wire`` is the sender the table is given: it keeps every request and its callbacks, so a
test answers them when it wants (``deliver``), or loses them as a crash does (``crash``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from backend.protocol import Error


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def make_rows(n_sources: int = 2, per_source: int = 3) -> list[dict[str, Any]]:
    rows = []
    for s in range(n_sources):
        for k in range(per_source):
            rows.append({"id": f"r{len(rows) + 1}", "source_id": f"s{s}", "start": 2.0 * k,
                         "end": 2.0 * k + 1.5, "text": f"take {s} line {k}",
                         "language": "en", "speaker": None, "confidence": 0.9 - 0.3 * k,
                         "flag": "low_confidence" if k == 2 else None, "origin": "transcribed",
                         "engine": "pocketsphinx", "words": None, "stale": False,
                         "source_name": f"take {s} ü.wav",
                         "source_path": f"/rec/take {s} ü.wav", "clip": None,
                         "clip_path": None, "pending": False})
    for r in rows:
        r["duration"] = r["end"] - r["start"]
    return rows


class LabelsFake:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = copy.deepcopy(rows)
        self.next_id = len(rows) + 1
        self.revision = 1
        self.undo: list[tuple[str, list, str | None]] = []  # (label, rows before, coalesce)
        self.redo: list[tuple[str, list]] = []

    def handle(self, cmd: str, args: dict[str, Any]) -> dict[str, Any]:
        if cmd == "labels.get":
            return {"rows": copy.deepcopy(self.rows), **self._state(), "speakers": [],
                    "languages": ["en"], "summary": {}, "default_speaker": "My voice"}
        before = copy.deepcopy(self.rows)
        if cmd in ("labels.undo", "labels.redo"):
            take, put = (self.undo, self.redo) if cmd == "labels.undo" else (self.redo, self.undo)
            if not take:
                raise Refused("bad_arguments", f"nothing to {cmd[7:]}")
            label, rows, *_ = take.pop()
            put.append((label, before, None))
            self.rows = rows
        else:
            op = args["op"]
            key = op.get("coalesce")
            getattr(self, f"_{op['kind']}")(op)
            if not (key and self.undo and self.undo[-1][2] == key):
                self.undo.append((op["kind"], before, key))
            self.redo.clear()
        self.revision += 1
        return self._diff(before)

    def _state(self) -> dict[str, Any]:
        return {"revision": self.revision, "can_undo": bool(self.undo),
                "can_redo": bool(self.redo),
                "undo_label": self.undo[-1][0] if self.undo else "",
                "redo_label": self.redo[-1][0] if self.redo else ""}

    def _diff(self, before: list[dict]) -> dict[str, Any]:
        old = {r["id"]: r for r in before}
        now = {r["id"]: r for r in self.rows}
        return {"changed": [copy.deepcopy(r) for rid, r in now.items() if old.get(rid) != r],
                "removed": [rid for rid in old if rid not in now], **self._state()}

    def _row(self, rid: str) -> dict[str, Any]:
        for r in self.rows:
            if r["id"] == rid:
                return r
        raise Refused("not_found", f"no row {rid}")

    def _set(self, op: dict) -> None:
        for rid in op["ids"]:
            row = self._row(rid)
            row.update(op["fields"])
            if "text" in op["fields"]:
                row["origin"] = "edited"

    def _flag(self, op: dict) -> None:
        for rid in op["ids"]:
            self._row(rid)["flag"] = op["flag"]

    def _delete(self, op: dict) -> None:
        for rid in op["ids"]:
            self.rows.remove(self._row(rid))

    def _split(self, op: dict) -> None:
        row = self._row(op["id"])
        words = row["text"].split()
        cut = op["text_at"] if op["text_at"] is not None else len(" ".join(words[:1]))
        new = {**row, "id": f"r{self.next_id}", "start": op["at"], "text": row["text"][cut:]
               .strip()}
        self.next_id += 1
        row.update(end=op["at"], text=row["text"][:cut].strip())
        for r in (row, new):
            r["duration"] = r["end"] - r["start"]
        self.rows.insert(self.rows.index(row) + 1, new)

    def _merge(self, op: dict) -> None:
        row = self._row(op["id"])
        nxt = self.rows[self.rows.index(row) + 1]
        row.update(end=nxt["end"], text=f"{row['text']} {nxt['text']}".strip())
        row["duration"] = row["end"] - row["start"]
        self.rows.remove(nxt)

    def _replace(self, op: dict) -> None:
        flags = 0 if op.get("case") else re.IGNORECASE
        pattern = op["find"] if op.get("regex") else re.escape(op["find"])
        ids = op.get("ids")
        for r in self.rows:
            if ids is None or r["id"] in ids:
                r["text"] = re.sub(pattern, op["replace"], r["text"], flags=flags)


@dataclass
class Wire:
    """The sender: requests wait here until the test delivers (or loses) them."""
    backend: LabelsFake
    auto: bool = False  # answer at once
    waiting: list[tuple[str, dict, Any, Any]] = field(default_factory=list)
    sent: list[tuple[str, dict]] = field(default_factory=list)

    def __call__(self, cmd: str, args: dict, on_result, on_error) -> None:
        self.sent.append((cmd, copy.deepcopy(args)))
        self.waiting.append((cmd, copy.deepcopy(args), on_result, on_error))
        if self.auto:
            self.deliver()

    def deliver(self, n: int | None = None) -> int:
        done = 0
        while self.waiting and (n is None or done < n):
            cmd, args, ok, fail = self.waiting.pop(0)
            try:
                result = self.backend.handle(cmd, args)
            except Refused as err:
                fail(Error("x", err.code, err.message))
            else:
                ok(result)
            done += 1
        return done

    def crash(self, apply_first: bool = False) -> None:
        """The backend went away: the request on its way fails with backend_crashed (after
        being applied, with ``apply_first``: only its answer was lost)."""
        cmd, args, _ok, fail = self.waiting.pop(0)
        if apply_first:
            self.backend.handle(cmd, args)
        fail(Error("x", "backend_crashed", "the backend crashed: exit code 1"))
