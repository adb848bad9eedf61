"""Which texts a front-end cannot read completely: the check of the labels table
(``text.check``) and of the clips a text-to-speech training reads."""

from __future__ import annotations

from backend.text import frontend as fe


def _row_language(row: dict, forced: str | None) -> str:
    if forced:
        return forced
    return fe.language_code(row.get("language")) or fe.DEFAULT_LANGUAGE


def check_rows(rows: list[dict], language: str | None = None) -> dict:
    """The rows (labels.json rows) whose text their front-end cannot read completely.
    ``language`` reads every row with one front-end; otherwise each row's own language
    (English when it has none). Stale rows and rows without text are not checked."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        if row.get("stale") or not isinstance(row.get("text"), str) or not row["text"].strip():
            continue
        groups.setdefault(_row_language(row, language), []).append(row)
    found, frontends, unavailable = [], {}, []
    for code, members in sorted(groups.items()):
        try:
            frontend = fe.get(code)
        except fe.FrontendUnavailable as exc:
            unavailable.append({"language": code, "message": exc.message,
                                "rows": [r["id"] for r in members]})
            continue
        frontends[code] = frontend.name
        readings = frontend.read_many([r["text"] for r in members])
        for row, reading in zip(members, readings, strict=True):
            if not reading.ok:
                found.append({"id": row["id"], "language": code,
                              "unsupported": [u.to_json() for u in reading.unsupported],
                              "unknown_symbols": reading.unknown_symbols,
                              "problems": reading.problems()})
    order = {r["id"]: i for i, r in enumerate(rows)}
    found.sort(key=lambda r: order[r["id"]])
    return {"rows": found, "checked": sum(len(m) for m in groups.values()),
            "frontends": frontends, "unavailable": unavailable}
