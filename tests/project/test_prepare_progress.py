"""Prepare's progress never passes its total, whatever order the pool's reports arrive in.

Pool workers send "source X is 70 % done" through a queue, and their results through
the pool's own pipe: a report can arrive after its source's result. Once counted as
done, a source's late reports must not add to the progress again ("44.69/40").
"""

from __future__ import annotations

from pathlib import Path

from backend.dataset.project import create_project
from backend.jobs import prepare as prepare_job
from backend.jobs.base import JobContext


def test_late_reports_of_a_finished_source_are_not_counted(tmp_path: Path) -> None:
    project = create_project(tmp_path / "p")
    events: list[dict] = []
    ctx = JobContext("t", "prepare", lambda ev, data: events.append(data) if
                     ev == "job.progress" else None, min_interval=0)
    run = prepare_job._Run(project, project.settings, ctx)
    run.sources = [{"id": sid, "name": f"{sid}.wav", "path": f"/x/{sid}.wav"} for sid in "AB"]
    todo = [{"id": sid, "stem": f"{sid}_001"} for sid in "AB"]
    run.total = 2

    run._source_progress("A", 0.5)
    run._source_progress("B", 0.25)
    run._collect(todo, {"id": "A", "error": "a reason"})  # A's result comes first ...
    run._source_progress("A", 0.9)  # ... then its last reports
    run._source_progress("A", 1.0)
    run._source_progress("B", 0.75)
    run._collect(todo, {"id": "B", "error": "a reason"})
    run._source_progress("B", 0.9)

    done = [e["done"] for e in events]
    assert done == [0.5, 0.75, 1.25, 1.75, 2]  # late reports of A and B change nothing
    assert all(e["total"] == 2 and e["done"] <= e["total"] for e in events)
