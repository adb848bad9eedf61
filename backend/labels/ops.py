"""The edits of the proofreading table, and what transcription writes into the rows.

``apply(doc, op)`` runs one table edit (``set``, ``split``, ``merge``, ``delete``, ``replace``,
``flag``; see docs/protocol.md "Labels") and records it for undo (``backend.labels.history``).
Bad arguments raise ``OpError`` naming the field or the row; an unknown row ``UnknownRow``.
The first split, merge or delete on a recording makes it CUT: from then on its clips are
exactly its rows' spans (``backend.labels.cuts``), applied by the next prepare.

``set_transcript`` and ``cut_source`` are for the transcription job: they are not undo steps.
``edit_rows`` changes many rows as one undo step (an import).
"""

from __future__ import annotations

import copy
import re
import unicodedata
from typing import Any

from backend.labels import history
from backend.labels.rows import new_row
from backend.labels.store import FLAGS, LabelsDoc, sort_rows

MIN_PIECE_S = 0.05  # a split leaves at least this much on each side
USER_ORIGINS = ("edited", "imported")  # text the user typed or brought: never overwritten
AUTO_FLAGS = ("empty", "low_confidence")
_LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
_ORIGIN_RANK = {"none": 0, "transcribed": 1, "imported": 2, "edited": 3}


class OpError(ValueError):
    """An edit that cannot be made as asked; the message names the field or the row."""


class UnknownRow(LookupError):
    def __init__(self, rid: Any):
        super().__init__(f"no row {rid!r} in the labels (it was deleted, or the table is out "
                         "of date: reload it)")
        self.message = str(self)


def get_row(doc: LabelsDoc, rid: Any) -> dict[str, Any]:
    try:
        return doc.row(rid)
    except KeyError:
        raise UnknownRow(rid) from None


# transcription ------------------------------------------------------------------------------
def words_list(words: Any) -> list[list[Any]] | None:
    """``[[word, start, end, prob], ...]`` from lists, dicts or ``Word``-like objects."""
    if words is None:
        return None
    out = []
    for w in words:
        if isinstance(w, dict):
            text, start, end, prob = (w.get("text", w.get("word")), w["start"], w["end"],
                                      w.get("prob"))
        elif isinstance(w, (list, tuple)):
            text, start, end, prob = (list(w) + [None])[:4]
        else:
            text, start, end, prob = w.text, w.start, w.end, getattr(w, "prob", None)
        out.append([str(text), round(float(start), 4), round(float(end), 4),
                    None if prob is None else round(float(prob), 4)])
    return out


def set_transcript(doc: LabelsDoc, rid: str, transcript: dict[str, Any], engine: str,
                   flag: str | None) -> bool:
    """Write a transcription into row ``rid``: text, language, confidence, words (seconds of
    the recording), the engine's model id and ``flag`` ("empty", "low_confidence" or None).
    A row whose text the user typed or imported is left alone (returns False); a "user" flag
    is kept."""
    row = get_row(doc, rid)
    if row.get("origin") in USER_ORIGINS:
        return False
    if flag is not None and flag not in FLAGS:
        raise OpError(f"flag must be one of {', '.join(FLAGS)} or null, not {flag!r}")
    confidence = transcript.get("confidence")
    row.update({"text": str(transcript.get("text") or "").strip(),
                "language": transcript.get("language"),
                "confidence": None if confidence is None else round(float(confidence), 4),
                "words": words_list(transcript.get("words")), "engine": engine,
                "origin": "transcribed",
                "flag": "user" if row.get("flag") == "user" else flag})
    return True


def cut_source(doc: LabelsDoc, source_id: str, pieces: list[dict[str, Any]],
               engine: str) -> list[str]:
    """Replace the rows of ``source_id`` by one row per piece (``start``, ``end`` in seconds
    of the recording, ``text``, ``language``, ``confidence``, ``words``, optional ``flag``) and
    make the source cut. Refused (ValueError naming the row) when a row of the source holds
    text the user typed or imported. Stale rows stay. Returns the new rows' ids."""
    mine = [r for r in doc.rows if r["source_id"] == source_id and not r.get("stale")]
    for r in mine:
        if r.get("origin") in USER_ORIGINS and str(r.get("text") or "").strip():
            raise ValueError(f"row {r['id']} of source {source_id} holds text typed or "
                             f"imported by you ({_short(r['text'])}); the recording is not cut "
                             "again so that text is kept. Delete or merge its rows by hand")
    _check_pieces(pieces)
    gone = {r["id"] for r in mine}
    doc.rows = [r for r in doc.rows if r["id"] not in gone]
    history.forget(doc, gone)
    ids = []
    for piece in pieces:
        row = new_row(doc.new_id(), source_id, piece["start"], piece["end"])
        doc.rows.append(row)
        set_transcript(doc, row["id"], piece, engine, piece.get("flag"))
        ids.append(row["id"])
    if source_id not in doc.cut_sources:
        doc.cut_sources.append(source_id)
    sort_rows(doc)
    return ids


def _check_pieces(pieces: list[dict[str, Any]]) -> None:
    prev = 0.0
    for i, p in enumerate(pieces):
        start, end = float(p["start"]), float(p["end"])
        if not (start >= prev - 1e-6 and end - start >= MIN_PIECE_S):
            raise ValueError(f"piece {i} [{start}, {end}] must start at or after the previous "
                             f"piece's end ({prev}) and last at least {MIN_PIECE_S} s")
        prev = end


def _short(text: str, n: int = 40) -> str:
    text = str(text)
    return repr(text if len(text) <= n else text[:n] + "...")


# many rows as one undo step (an import) ------------------------------------------------------
FIXED_FIELDS = ("id", "source_id", "start", "end")  # a row's identity and span


def edit_rows(doc: LabelsDoc, label: str, updates: dict[str, dict[str, Any]]) -> list[str]:
    """Change fields of many rows as ONE undo step labelled ``label`` (an import of a list:
    ``{rid: {"text": ..., "speaker": ..., "language": ..., "origin": "imported"}}``). The
    span and identity fields cannot change (OpError); an unknown row is ``UnknownRow``.
    Returns the ids of the rows that changed."""
    for rid, fields in updates.items():
        get_row(doc, rid)
        fixed = sorted(set(fields) & set(FIXED_FIELDS))
        if fixed:
            raise OpError(f"{', '.join(fixed)} of row {rid} cannot be changed this way")
    before, changed = [], []
    for rid, fields in updates.items():
        row = doc.row(rid)
        if any(row.get(k) != v for k, v in fields.items()):
            before.append(copy.deepcopy(row))
            row.update(copy.deepcopy(fields))
            changed.append(rid)
    _commit(doc, label, before, changed, set(), [])
    return changed


# the table's edits ---------------------------------------------------------------------------
def apply(doc: LabelsDoc, op: Any, now: float | None = None) -> dict[str, Any]:
    """Run one edit and record it for undo. Returns ``{changed: [ids], removed: [ids]}`` (and
    ``replaced`` for a replace)."""
    if not isinstance(op, dict) or op.get("kind") not in _OPS:
        kind = op.get("kind") if isinstance(op, dict) else None
        raise OpError(f"op.kind must be one of {', '.join(_OPS)}, not {kind!r}")
    return _OPS[op["kind"]](doc, op, now)


def _ids(op: dict[str, Any], doc: LabelsDoc, key: str = "ids") -> list[str]:
    ids = op.get(key)
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise OpError(f"op.{key} must be a non-empty list of row ids")
    for rid in ids:
        get_row(doc, rid)
    return list(dict.fromkeys(ids))


def _commit(doc: LabelsDoc, label: str, before: list[dict[str, Any]],
            after_ids: list[str], removed: set[str], cut_added: list[str],
            coalesce: str | None = None, now: float | None = None) -> dict[str, Any]:
    sort_rows(doc)
    after = [doc.row(rid) for rid in after_ids]
    if before != after or cut_added:
        history.record(doc, history.entry(label, before, after, cut_added, coalesce, now))
    return {"changed": list(after_ids), "removed": sorted(removed)}


def _cut(doc: LabelsDoc, source_ids: list[str]) -> list[str]:
    added = [sid for sid in dict.fromkeys(source_ids) if sid not in doc.cut_sources]
    doc.cut_sources.extend(added)
    return added


def _set(doc: LabelsDoc, op: dict[str, Any], now: float | None) -> dict[str, Any]:
    ids = _ids(op, doc)
    fields = _fields(op.get("fields"), len(ids))
    coalesce = op.get("coalesce")
    if coalesce is not None and not isinstance(coalesce, str):
        raise OpError("op.coalesce must be a string (the editing session's key) or null")
    before = copy.deepcopy([doc.row(rid) for rid in ids])
    for rid in ids:
        row = doc.row(rid)
        if "text" in fields and fields["text"] != row["text"]:
            row["origin"] = "edited"
            if "flag" not in fields and row.get("flag") in AUTO_FLAGS:
                row["flag"] = None  # the user has looked at it
        row.update(fields)
    what = "text" if "text" in fields else "/".join(sorted(fields))
    label = f"edit {what} of {_rows_label(ids)}"
    return _commit(doc, label, before, ids, set(), [], coalesce, now)


def _fields(fields: Any, count: int) -> dict[str, Any]:
    if not isinstance(fields, dict) or not fields:
        raise OpError("op.fields must be an object with text, language, speaker or flag")
    unknown = sorted(set(fields) - {"text", "language", "speaker", "flag"})
    if unknown:
        raise OpError(f"op.fields cannot set {', '.join(unknown)}; it sets text, language, "
                      "speaker and flag")
    out = dict(fields)
    if "text" in out:
        if count != 1:
            raise OpError("op.fields.text can be set on one row at a time (op.ids has "
                          f"{count}); use replace for many rows")
        if not isinstance(out["text"], str):
            raise OpError("op.fields.text must be a string")
    lang = out.get("language")
    if lang is not None and (not isinstance(lang, str) or not _LANGUAGE.match(lang)):
        raise OpError(f"op.fields.language must be a language code such as en, zh, ja, ko, "
                      f"yue (or null), not {lang!r}")
    if "speaker" in out:
        speaker = out["speaker"]
        if speaker is not None and not isinstance(speaker, str):
            raise OpError("op.fields.speaker must be a name (a string) or null")
        out["speaker"] = (speaker or "").strip() or None
    if "flag" in out and out["flag"] is not None and out["flag"] not in FLAGS:
        raise OpError(f"op.fields.flag must be one of {', '.join(FLAGS)} or null")
    return out


def _rows_label(ids: list[str]) -> str:
    return f"row {ids[0]}" if len(ids) == 1 else f"{len(ids)} rows"


def _flag(doc: LabelsDoc, op: dict[str, Any], now: float | None) -> dict[str, Any]:
    ids = _ids(op, doc)
    flag = op.get("flag")
    if flag not in ("user", None):
        raise OpError(f"op.flag must be \"user\" or null, not {flag!r}")
    before = copy.deepcopy([doc.row(rid) for rid in ids])
    for rid in ids:
        doc.row(rid)["flag"] = flag
    label = f"{'flag' if flag else 'unflag'} {_rows_label(ids)}"
    return _commit(doc, label, before, ids, set(), [], now=now)


def _live(doc: LabelsDoc, rid: str, what: str) -> dict[str, Any]:
    row = get_row(doc, rid)
    if row.get("stale"):
        raise OpError(f"row {rid} is stale (its clip is gone since the recording was prepared "
                      f"again): it cannot be {what}; delete it or copy its text")
    return row


def _split(doc: LabelsDoc, op: dict[str, Any], now: float | None) -> dict[str, Any]:
    rid = op.get("id")
    row = _live(doc, rid, "split")
    at = op.get("at")
    start, end = float(row["start"]), float(row["end"])
    if isinstance(at, bool) or not isinstance(at, (int, float)) \
            or not start + MIN_PIECE_S <= at <= end - MIN_PIECE_S:
        raise OpError(f"op.at must be a time in seconds of the recording strictly inside row "
                      f"{rid} ({start:.3f} to {end:.3f} s, at least {MIN_PIECE_S} s from each "
                      f"end), not {at!r}")
    text_at = op.get("text_at")
    if text_at is not None and (isinstance(text_at, bool) or not isinstance(text_at, int)
                                or not 0 <= text_at <= len(row["text"])):
        raise OpError(f"op.text_at must be a character index from 0 to {len(row['text'])} "
                      f"(or null: split at the word nearest the time), not {text_at!r}")
    before = [copy.deepcopy(row)]
    left, right = split_text(row, float(at), text_at)
    words = row.get("words")
    tail = new_row(doc.new_id(), row["source_id"], at, end)
    for key in ("language", "speaker", "confidence", "flag", "origin", "engine"):
        tail[key] = row.get(key)
    mid = [w for w in words or [] if (w[1] + w[2]) / 2 < at]
    tail.update(text=right, words=None if words is None else words[len(mid):])
    row.update(end=round(float(at), 6), text=left, words=None if words is None else mid)
    doc.rows.append(tail)
    cut = _cut(doc, [row["source_id"]])
    return _commit(doc, f"split row {rid}", before, [rid, tail["id"]], set(), cut, now=now)


def split_text(row: dict[str, Any], at: float, text_at: int | None) -> tuple[str, str]:
    """The row's text cut at character ``text_at``, or at a word: the word boundary the
    row's word times give for ``at`` when they still match the text, else the share of the
    time (characters for text written without spaces, such as Chinese)."""
    text = str(row.get("text") or "")
    if text_at is not None:
        return text[:text_at].rstrip(), text[text_at:].lstrip()
    spaced = len(text.split()) > 1 or not any(_wide(c) for c in text)
    units = text.split() if spaced else list(text.strip())
    sep = " " if spaced else ""
    words = row.get("words") or []
    spoken = [str(w[0]).strip() for w in words]
    matches = spoken == units if spaced else "".join(spoken) == "".join(units)
    if words and matches:
        before_at = [w for w in words if (w[1] + w[2]) / 2 < at]
        k = len(before_at) if spaced else sum(len(str(w[0]).strip()) for w in before_at)
    else:
        share = (at - float(row["start"])) / max(float(row["end"]) - float(row["start"]), 1e-9)
        k = round(len(units) * share)
    return sep.join(units[:k]), sep.join(units[k:])


def _wide(char: str) -> bool:
    """A character of a script written without spaces (Chinese, Japanese)."""
    return unicodedata.east_asian_width(char) in ("W", "F") and char.isalpha()


def _merge(doc: LabelsDoc, op: dict[str, Any], now: float | None) -> dict[str, Any]:
    rid = op.get("id")
    first = _live(doc, rid, "merged")
    later = [r for r in doc.rows if r["source_id"] == first["source_id"] and not r.get("stale")
             and r["id"] != rid and float(r["start"]) >= float(first["start"])]
    later.sort(key=lambda r: (float(r["start"]), float(r["end"])))
    if not later:
        raise OpError(f"row {rid} is the last of its recording: there is no next row to "
                      "merge it with")
    second = later[0]
    before = copy.deepcopy([first, second])
    first.update(_merged(first, second))
    doc.rows = [r for r in doc.rows if r["id"] != second["id"]]
    cut = _cut(doc, [first["source_id"]])
    return _commit(doc, f"merge rows {rid} and {second['id']}", before, [rid], {second["id"]},
                   cut, now=now)


def _merged(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    da, db = float(a["end"]) - float(a["start"]), float(b["end"]) - float(b["start"])
    conf = None
    if a.get("confidence") is not None and b.get("confidence") is not None:
        conf = round((a["confidence"] * da + b["confidence"] * db) / max(da + db, 1e-9), 4)
    words = None
    if a.get("words") is not None and b.get("words") is not None:
        words = a["words"] + b["words"]
    flags = [f for f in (a.get("flag"), b.get("flag")) if f]
    return {"end": max(float(a["end"]), float(b["end"])),
            "text": " ".join(t for t in (a["text"].strip(), b["text"].strip()) if t),
            "confidence": conf, "words": words,
            "flag": "user" if "user" in flags else (flags[0] if flags else None),
            "origin": max(a.get("origin") or "none", b.get("origin") or "none",
                          key=lambda o: _ORIGIN_RANK.get(o, 0)),
            "engine": a.get("engine") if a.get("engine") == b.get("engine") else None,
            "language": a.get("language") or b.get("language"),
            "speaker": a.get("speaker") or b.get("speaker")}


def _delete(doc: LabelsDoc, op: dict[str, Any], now: float | None) -> dict[str, Any]:
    ids = _ids(op, doc)
    before = copy.deepcopy([doc.row(rid) for rid in ids])
    cut = _cut(doc, [r["source_id"] for r in before if not r.get("stale")])
    doc.rows = [r for r in doc.rows if r["id"] not in set(ids)]
    return _commit(doc, f"delete {_rows_label(ids)}", before, [], set(ids), cut, now=now)


def _replace(doc: LabelsDoc, op: dict[str, Any], now: float | None) -> dict[str, Any]:
    pattern = _pattern(op)
    repl = op.get("replace")
    if not isinstance(repl, str):
        raise OpError("op.replace must be a string (the replacement text)")
    if op.get("ids") is None:
        ids = [r["id"] for r in doc.rows if not r.get("stale")]
    else:
        ids = _ids(op, doc)
    if not op.get("regex"):
        repl = repl.replace("\\", "\\\\")
    before, count = [], 0
    for rid in ids:
        row = doc.row(rid)
        try:
            text, n = pattern.subn(repl, row["text"])
        except (re.error, IndexError) as exc:
            raise OpError(f"op.replace is not a valid replacement for this pattern: {exc}") \
                from exc
        if n and text != row["text"]:
            before.append(copy.deepcopy(row))
            row.update(text=text, origin="edited")
            count += n
    find = _short(op["find"], 20)
    result = _commit(doc, f"replace {find} in {_rows_label([r['id'] for r in before])}",
                     before, [r["id"] for r in before], set(), [], now=now)
    return {**result, "replaced": count}


def _pattern(op: dict[str, Any]) -> re.Pattern[str]:
    find = op.get("find")
    if not isinstance(find, str) or not find:
        raise OpError("op.find must be the text to look for (not empty)")
    flags = 0 if op.get("case") else re.IGNORECASE
    try:
        return re.compile(find if op.get("regex") else re.escape(find), flags)
    except re.error as exc:
        raise OpError(f"op.find is not a valid regular expression: {exc}") from exc


_OPS = {"set": _set, "split": _split, "merge": _merge, "delete": _delete,
        "replace": _replace, "flag": _flag}
