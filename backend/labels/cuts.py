"""What prepare needs from the labels: the exact clip spans of the recordings the table cuts.

A recording becomes CUT with the first split, merge or delete of one of its rows (or when a
transcription cuts it at word boundaries): from then on its clips are exactly its rows' spans
(stale rows excluded), and prepare writes one clip per span (``process_source(...,
clips=...)``). Undoing that first edit makes it uncut again: its clips come from silence
slicing once more.
"""

from __future__ import annotations

from pathlib import Path

from backend.labels import store


def clip_spans(root: Path) -> dict[str, list[list[float]]]:
    """``{source_id: [[start, end], ...]}`` (sorted) for every cut source; a cut source with
    no row left maps to ``[]`` (no clip). Raises ``LabelsError`` for a labels file that
    cannot be used."""
    doc = store.load(root)
    spans: dict[str, list[list[float]]] = {sid: [] for sid in doc.cut_sources}
    for row in doc.rows:
        if row["source_id"] in spans and not row.get("stale"):
            spans[row["source_id"]].append([float(row["start"]), float(row["end"])])
    return {sid: sorted(s) for sid, s in spans.items()}
