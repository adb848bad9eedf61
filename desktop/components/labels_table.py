"""LabelsTable: the proofreading table of the Labels page, without Qt.

The rows, the rows shown, the current row and the ``revision`` are its base's
(``LabelsView``, desktop/components/labels_view.py); this class makes the changes.

Every edit is an op (docs/protocol.md, "Labels") sent through ``sender(cmd, args,
on_result, on_error)`` (``BackendClient.request``'s shape); the reply's ``changed`` and
``removed`` rows and its undo/redo state are applied. Requests go one at a time, in order,
from a queue: when the backend goes away (an answer ``backend_crashed`` or
``backend_stopped``, or ``set_backend_ready(False)``) the queue waits and is sent, in order,
once it is back. An op that was on its way when the backend went away is sent again when it
cannot do harm twice (``set``, ``flag``); any other is sent again only when a fresh
``labels.get`` shows the labels did not change meanwhile (its revision), else it had been
saved.

Typing into a cell is ``begin_edit`` / ``type_text`` / ``commit_edit``: the typed text
shows at once, is sent ``DEBOUNCE_S`` after the last keystroke and at commit, and every
``set`` of one editing carries the same ``coalesce`` key, so the backend keeps one undo step
for it.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from desktop.components.labels_requests import LabelsRequest, TextEdit, done_text, same_typing
from desktop.components.labels_view import LabelsView

Sender = Callable[[str, dict[str, Any], Callable[[dict[str, Any]], None],
                  Callable[[Any], None]], Any]

AWAY_CODES = ("backend_crashed", "backend_stopped")
SAFE_TWICE = ("set", "flag")
BUSY = "busy"  # another process (a command-line job) holds the project
BUSY_RETRY_S = 2.0
DEBOUNCE_S = 0.5
SAVED = "Every change is saved."
class LabelsTable(LabelsView):
    def __init__(self, sender: Sender, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._send, self._clock = sender, clock
        self._token = secrets.token_hex(3)  # coalesce keys never meet another session's
        self._edits = 0
        self.ready = True  # the backend answers
        self._queue: deque[LabelsRequest] = deque()
        self._in_flight: LabelsRequest | None = None
        self._text_sets: dict[str, int] = {}  # row id -> text sets not answered yet
        self.editing: TextEdit | None = None
        self.held = ""  # the backend's "busy" message while the queue waits for the project
        self._held_at = 0.0

    @property
    def pending(self) -> int:
        """Requests not answered yet (the one on its way included)."""
        return len(self._queue) + (self._in_flight is not None)

    def busy_text(self) -> str:
        """Changes waiting (the backend away) or on their way; "" when every one is saved."""
        n = sum(1 for r in [*self._queue, self._in_flight] if r is not None and r.op)
        if self.held:
            return (f"{self.held}. Your {n} change(s) wait here and are sent again every "
                    f"{BUSY_RETRY_S:g} s.")
        if not self.ready and (n or self.editing):
            return (f"The backend is away: {n} change(s) wait here and are saved, in order, "
                    "as soon as it is back.")
        if not self.ready:
            return "The backend is away; changes wait here until it is back."
        if n or (self.editing and self.editing.changed_at is not None):
            return "Saving…"
        return ""

    def status_text(self) -> str:
        return self.busy_text() or self.error or self.message or \
            (SAVED if self.loaded else "")

    # loading -----------------------------------------------------------------------------
    def load(self, project: str | None) -> None:
        """Show another project's labels (None: none). Edits on their way still go to the
        project they were made in (the text being typed too)."""
        self.commit_edit()
        self._clear()
        self.project = project
        self._text_sets.clear()
        self.editing = None
        self._changed("reset")
        if project is not None:
            self.reload()

    def reload(self) -> None:
        """Ask ``labels.get`` again (once: a get already waiting in the queue is enough)."""
        if self.project is None:
            return
        if not any(r.cmd == "labels.get" and r.project == self.project for r in self._queue):
            self._push(LabelsRequest("labels.get", self.project))

    # ops ---------------------------------------------------------------------------------
    def set_fields(self, ids: list[str], **fields: Any) -> bool:
        """``set`` language, speaker or flag of rows ("" sets none); text through editing."""
        fields = {k: (v or None) for k, v in fields.items()}
        changed = [rid for rid in ids if rid in self.rows
                   and any(self.rows[rid].get(k) != v for k, v in fields.items())]
        return bool(changed) and self._op({"kind": "set", "ids": changed, "fields": fields})

    def split(self, rid: str, at: float, text_at: int | None = None) -> bool:
        row = self.rows.get(rid)
        if row is None:
            return False
        if not float(row["start"]) < at < float(row["end"]):
            return self._say(f"Split at {at:.2f} s: choose a point inside the clip "
                             f"({row['start']:.2f}–{row['end']:.2f} s).", error=True)
        return self._op({"kind": "split", "id": rid, "at": at, "text_at": text_at})

    def merge(self, rid: str) -> bool:
        if rid not in self.rows:
            return False
        if self.next_in_recording(rid) is None:
            return self._say("This is the last clip of its recording: there is no next clip "
                             "to merge it with.", error=True)
        return self._op({"kind": "merge", "id": rid})

    def delete(self, ids: list[str]) -> bool:
        ids = [rid for rid in ids if rid in self.rows]
        return bool(ids) and self._op({"kind": "delete", "ids": ids})

    def toggle_flag(self, ids: list[str]) -> bool:
        """Flag the rows ("user"); when every one of them is flagged already (by you or by
        the transcription), clear their flags: you have checked them."""
        ids = [rid for rid in ids if rid in self.rows]
        if not ids:
            return False
        flag = None if all(self.rows[rid].get("flag") for rid in ids) else "user"
        return self._op({"kind": "flag", "ids": ids, "flag": flag})

    def replace(self, find: str, replacement: str, *, regex: bool = False,
                case: bool = False) -> bool:
        """Replace in the shown rows (every row when no filter is on): one undo step."""
        if not find:
            return self._say("Type the text to find first.", error=True)
        op: dict[str, Any] = {"kind": "replace", "find": find, "replace": replacement,
                              "regex": regex, "case": case}
        if self.filters.active:
            if not self.view:
                return self._say("No row is shown: nothing to replace in.", error=True)
            op["ids"] = list(self.view)
        return self._op(op)

    def _ops_waiting(self) -> bool:
        return any(r is not None and r.project == self.project and r.cmd != "labels.get"
                   for r in [*self._queue, self._in_flight])

    def undo_last(self) -> bool:
        """Undo the last change (also one not answered yet: the undo goes after it)."""
        return self._stack("labels.undo", self.undo.can_undo or self._ops_waiting()
                           or self.editing is not None and self.editing.changed_at is not None)

    def redo_last(self) -> bool:
        return self._stack("labels.redo", self.undo.can_redo)

    def _stack(self, cmd: str, possible: bool) -> bool:
        if self.project is None or not possible:
            return False
        self.commit_edit()
        self._push(LabelsRequest(cmd, self.project))
        return True

    def _op(self, op: dict[str, Any]) -> bool:
        if self.project is None:
            return False
        if op["kind"] != "set" or "text" not in op["fields"]:
            self.commit_edit()  # the text typed so far is saved first
        self._push(LabelsRequest("labels.apply", self.project, op))
        return True

    # typing ------------------------------------------------------------------------------
    def begin_edit(self, rid: str) -> TextEdit | None:
        if rid not in self.rows:
            return None
        if self.editing is not None and self.editing.rid != rid:
            self.commit_edit()
        if self.editing is None:
            self._edits += 1
            text = self.row(rid).get("text") or ""
            self.editing = TextEdit(rid, f"{self._token}-{rid}-{self._edits}", text, text)
        return self.editing

    def type_text(self, text: str) -> None:
        edit = self.editing
        if edit is None or text == edit.text:
            return
        edit.text, edit.changed_at = text, self._clock()
        self._typed[edit.rid] = text
        self._changed("cells", [edit.rid])

    def typing_due_in(self) -> float | None:
        """Seconds until the typed text is sent (None: nothing to send)."""
        edit = self.editing
        if edit is None or edit.changed_at is None:
            return None
        return max(0.0, edit.changed_at + DEBOUNCE_S - self._clock())

    def flush_typing(self, force: bool = False) -> bool:
        """Send the typed text when it is due (``force``: now)."""
        edit, due = self.editing, self.typing_due_in()
        if edit is None or due is None or (due > 0 and not force):
            return False
        edit.changed_at = None
        if edit.text == (edit.sent if edit.sent is not None else edit.original):
            return False
        edit.sent = edit.text
        self._text_sets[edit.rid] = self._text_sets.get(edit.rid, 0) + 1
        self._typed[edit.rid] = edit.text
        return self._op({"kind": "set", "ids": [edit.rid], "fields": {"text": edit.text},
                         "coalesce": edit.key})

    def commit_edit(self, text: str | None = None) -> bool:
        """The editing ends (Enter, another row, another op); its text is sent now."""
        if self.editing is None:
            return False
        if text is not None:
            self.type_text(text)
        sent = self.flush_typing(force=True)
        rid, self.editing = self.editing.rid, None
        if not self._text_sets.get(rid):
            self._typed.pop(rid, None)
        self._changed("cells", [rid])
        return sent

    def cancel_edit(self) -> bool:
        """Escape: the text goes back to what it was (in the same undo step if sent)."""
        edit = self.editing
        if edit is None:
            return False
        self.type_text(edit.original)
        return self.commit_edit()

    # the queue ---------------------------------------------------------------------------
    def set_backend_ready(self, ready: bool) -> None:
        """The backend is (not) there to answer; the queue waits while it is away. When it
        is back the labels are read first (they may have changed meanwhile), then the
        queue goes in order."""
        if ready == self.ready:
            return
        self.ready = ready
        if ready and self.project is not None:
            self._read_first()
        self._changed("state")
        self._send_next()

    def _read_first(self) -> None:
        front = self._queue[0] if self._queue else None
        if front is not None and front.cmd == "labels.get" and front.project == self.project:
            get = front
        else:
            get = LabelsRequest("labels.get", self.project or "")
            self._queue.appendleft(get)
        held = self._queue[1] if len(self._queue) > 1 else None
        if held is not None and held.uncertain:
            if held.project == get.project:
                held.check = get
            else:  # another project's: its labels are not read here, so it is not resent
                self._queue.remove(held)
                self._say(f"{held.what.capitalize()} in {held.project} may not have been "
                          "saved before the backend went away: check it there.", error=True)

    def _push(self, req: LabelsRequest) -> None:
        last = self._queue[-1] if self._queue else None
        if last is not None and req.op is not None and same_typing(last, req):
            last.op = req.op  # the newer text replaces the one not sent yet
            self._text_sets[req.op["ids"][0]] -= 1
        else:
            self._queue.append(req)
        self._changed("state")
        self._send_next()

    def retry_if_due(self) -> bool:
        """While the project is busy, send the waiting change again every BUSY_RETRY_S."""
        if not self.held or self._clock() - self._held_at < BUSY_RETRY_S:
            return False
        self.held = ""
        self._send_next()
        self._changed("state")
        return True

    def _send_next(self) -> None:
        if self._in_flight is not None or not self._queue or not self.ready or self.held:
            return
        req = self._in_flight = self._queue.popleft()
        req.sent_revision = self.doc_revision
        self._send(req.cmd, req.args(), lambda result: self._on_result(req, result),
                   lambda err: self._on_error(req, err))

    def _on_result(self, req: LabelsRequest, result: dict[str, Any]) -> None:
        self._in_flight = None
        mine = req.project == self.project
        if mine and req.cmd == "labels.get":
            self._apply_get(result)
            self._decide(req, result)
        elif mine:
            self._apply_reply(req, result)
        self._send_next()
        self._changed("state")

    def _decide(self, get: LabelsRequest, result: dict[str, Any]) -> None:
        """A check after the backend came back: resend the op, or it had been saved."""
        held = self._queue[0] if self._queue else None
        if held is None or held.check is not get:
            return
        held.check, held.uncertain = None, False
        if result.get("revision") != held.sent_revision:
            self._queue.popleft()
            self._text_done(held)
            self._say(f"{held.what.capitalize()} had been saved before the backend went away.")

    def _on_error(self, req: LabelsRequest, err: Any) -> None:
        self._in_flight = None
        code, message = str(getattr(err, "code", "") or ""), str(getattr(err, "message", err))
        if code == BUSY and req.op is not None:  # nothing was written: it waits
            self._queue.appendleft(req)
            self.held, self._held_at = message.rstrip("."), self._clock()
            self._changed("state")
            return
        if code in AWAY_CODES:
            req.uncertain = (req.op is not None and req.op["kind"] not in SAFE_TWICE) \
                or req.cmd in ("labels.undo", "labels.redo")
            self._queue.appendleft(req)
            self.ready = False
            self._changed("state")
            return
        held = self._queue[0] if self._queue else None
        if held is not None and held.check is req:  # the check failed: do not guess
            self._queue.popleft()
            self._text_done(held)
            self._say(f"{held.what.capitalize()} may not have been saved before the backend "
                      f"went away ({message}): check it.", error=True)
        elif req.project == self.project:
            self._text_done(req)
            if req.cmd == "labels.get":
                self.loaded = True
                self._say(f"Could not read the labels: {message}", error=True)
            else:
                self._say(f"{req.what.capitalize()} was not saved: {message}", error=True)
                self.reload()  # show what is saved
        self._send_next()

    def _text_done(self, req: LabelsRequest) -> None:
        op = req.op or {}
        if op.get("kind") == "set" and "text" in op.get("fields", {}):
            rid = op["ids"][0]
            self._text_sets[rid] = self._text_sets.get(rid, 1) - 1
            if self._text_sets[rid] <= 0 and (self.editing is None or self.editing.rid != rid):
                self._typed.pop(rid, None)
                self._text_sets.pop(rid, None)

    # replies -----------------------------------------------------------------------------
    def _apply_reply(self, req: LabelsRequest, result: dict[str, Any]) -> None:
        self._text_done(req)
        self._apply_state(result)
        self.error, self.message = "", done_text(req, result)
        changed = [r for r in result.get("changed") or [] if isinstance(r, dict) and "id" in r]
        self._apply_rows(changed, [str(rid) for rid in result.get("removed") or []])
