"""Prepare a voice dataset: import recordings, slice and resample them, check their health.

Incremental: a source is processed again only when its file, its editor
segments, the settings or the project rate changed, or (for a recording the Labels table
cuts) its rows' spans. Sources are processed by a
small process pool; the manifest is saved after each one, so stopping (cancel,
crash, power cut) loses at most the sources in flight.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.dataset import manifest as mf
from backend.dataset import prepare_worker as worker
from backend.dataset import project as proj
from backend.dataset.sources import source_notes
from backend.fsutil import atomic_write_json, describe_os_error
from backend.jobs import importer
from backend.kernel import BadArgs, JobContext, JobError
from backend.labels import cuts
from backend.protocol import E_IO

_POLL_S = 0.2
# CLI option -> prepare setting
_CLI_SETTINGS = {"normalize": "normalize", "threshold_db": "threshold_db",
                 "chunk_seconds": "chunk_seconds"}


@dataclass(frozen=True)
class PrepareParams:
    target: importer.ProjectTarget
    inputs: tuple[Path, ...]
    settings: dict[str, Any]  # overrides over the project's saved settings
    force: bool


def prepare(args: dict) -> PrepareParams:
    target = importer.parse_target(args)
    inputs = importer.parse_inputs(args, required=False)
    settings = args.get("settings") or {}
    if not isinstance(settings, dict):
        raise BadArgs("'settings' must be an object of prepare settings")
    base: dict[str, Any] = {}
    if target.create is None:
        try:
            project = proj.open_project(target.root)
            project.check_files()  # damaged or newer files: refuse before writing anything
            cuts.clip_spans(project.root)  # labels.json too (the cut recordings)
            base = project.settings
        except proj.ProjectError as exc:
            raise BadArgs(exc.message) from exc
    try:
        proj.merge_settings(base, settings)
    except (ValueError, TypeError) as exc:
        raise BadArgs(f"bad prepare settings: {exc}") from exc
    return PrepareParams(target, inputs, dict(settings), bool(args.get("force", False)))


def project_folder(params: PrepareParams) -> Path:
    """The project this job writes (held for the run, see backend/jobs/locking.py)."""
    return params.target.root


# the job ------------------------------------------------------------------------
def run(params: PrepareParams, ctx: JobContext) -> dict:
    project = importer.open_target(params.target)
    imported = importer.run_import(project, params.inputs, ctx) if params.inputs else None
    try:
        settings = project.set_settings(params.settings)
    except (ValueError, TypeError) as exc:
        raise JobError(f"bad prepare settings: {exc}") from exc
    except OSError as exc:
        raise JobError(describe_os_error(exc, "writing", project.path(proj.PROJECT_FILE)),
                       code=E_IO) from exc
    try:
        run_state = _Run(project, settings, ctx)
        return run_state.execute(params.force, imported)
    except proj.ProjectError as exc:
        raise JobError(exc.message) from exc


class _Run:
    """One prepare run over a project."""

    def __init__(self, project: proj.Project, settings: dict[str, Any], ctx: JobContext):
        from backend.dataset import pipeline

        self.project = project
        self.settings = settings
        self.ctx = ctx
        self.pipeline_version = getattr(pipeline, "VERSION", None)
        self.sources = project.load_sources()
        self.edits = project.load_edits()
        self.manifest = project.load_manifest()
        self.cuts = cuts.clip_spans(project.root)  # sources the Labels table cuts
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, str]] = []
        self.processed = 0
        self.total = self.done = 0
        self.fractions: dict[str, float] = {}
        self.collected: set[str] = set()

    def execute(self, force: bool, imported: dict | None) -> dict:
        self._start_clean()
        todo, skipped = self._plan(force)
        if todo:
            self._process(todo)
        mf.clean_strays(self.project, self.manifest)
        report = self._write_report()
        slices, seconds = mf.totals(self.manifest)
        result = {"sources_processed": self.processed, "sources_skipped": skipped,
                  "slices": slices, "prepared_seconds": seconds,
                  "errors": self._all_errors(imported), "warnings": self.warnings,
                  "report": report,
                  "manifest": str(self.project.path(proj.MANIFEST_FILE))}
        if imported is not None:
            result["imported"] = {"added": len(imported["added"]),
                                  "duplicates": len(imported["duplicates"])}
        return result

    def _start_clean(self) -> None:
        present = {s["id"] for s in self.sources}
        changed = mf.drop_removed_sources(self.manifest, present)
        if changed or self.manifest.get("sample_rate") != self.project.sample_rate:
            self.manifest["sample_rate"] = self.project.sample_rate
            self._save_manifest()
        removed = mf.clean_strays(self.project, self.manifest)
        if removed:
            self.ctx.log(f"removed {removed} leftover file(s) of an interrupted run", "info")

    def _plan(self, force: bool) -> tuple[list[dict[str, Any]], int]:
        todo, skipped = [], 0
        for src in self.sources:
            if src.get("status") != "ok":
                continue
            segments = self.project.segments_of(src["id"], self.edits)
            clips = self.cuts.get(src["id"])
            sig = mf.signature(src, self.settings, self.project.sample_rate, segments,
                               self.pipeline_version, clips)
            old = self.manifest["sources"].get(src["id"])
            if old is not None and old.get("signature") == sig and not force:
                missing = mf.missing_files(self.project, old)
                if not missing:
                    skipped += 1
                    continue
                self.ctx.log(f"{len(missing)} prepared file(s) of {src.get('name')} are "
                             f"missing (such as {missing[0]}); preparing it again", "warning",
                             path=src["path"])
            problem = _missing_or_changed(src)
            if problem:
                self.errors.append({"path": src["path"], "source_id": src["id"],
                                    "message": problem})
                continue
            stem, generation = mf.next_stem(src["id"], old)
            todo.append({"id": src["id"], "path": src["path"], "settings": self.settings,
                         "sample_rate": self.project.sample_rate, "segments": segments,
                         "clips": clips,
                         "out_gt": str(self.project.path(proj.GT_DIR)),
                         "out_16k": str(self.project.path(proj.WAV16K_DIR)),
                         "stem": stem, "generation": generation, "signature": sig,
                         "duration": src.get("duration") or 0.0})
        todo.sort(key=lambda t: -float(t["duration"]))  # longest first: both workers end together
        return todo, skipped

    def _process(self, todo: list[dict[str, Any]]) -> None:
        self.total, self.done, self.fractions, self.collected = len(todo), 0, {}, set()
        self.ctx.progress("prepare", 0, self.total, force=True)
        workers = max(1, min(2, os.cpu_count() or 1, len(todo)))
        try:
            if workers == 1:  # one source: no process start-up cost
                for task in todo:
                    self.ctx.check()
                    out = worker.process_one(task, self.ctx.check,
                                      lambda f, sid=task["id"]: self._source_progress(sid, f))
                    self._collect(todo, out)
            else:
                self._process_pool(todo, workers)
        except BaseException:
            mf.clean_strays(self.project, self.manifest)  # drop what was left half-done
            raise

    def _process_pool(self, todo: list[dict[str, Any]], workers: int) -> None:
        mp = multiprocessing.get_context("spawn")  # fork is unsafe: the server has threads
        progress_queue = mp.Queue()
        pool = mp.Pool(workers, initializer=worker.init_worker, initargs=(progress_queue,))
        try:
            results = pool.imap_unordered(worker.process_one, todo, chunksize=1)
            while self.done < len(todo):
                self.ctx.check()
                self._drain(progress_queue)
                try:
                    out = results.next(timeout=_POLL_S)
                except multiprocessing.TimeoutError:
                    continue
                self._collect(todo, out)
            pool.close()
        except BaseException:
            pool.terminate()  # stops the workers mid-file; their leftovers are cleaned
            raise
        finally:
            pool.join()
            progress_queue.close()
            progress_queue.cancel_join_thread()

    def _drain(self, progress_queue: Any) -> None:
        while True:
            try:
                sid, fraction = progress_queue.get_nowait()
            except queue.Empty:
                return
            self._source_progress(sid, fraction)

    def _source_progress(self, source_id: str, fraction: float) -> None:
        """A source in flight is ``fraction`` done. Pool workers report through a queue
        that can deliver after the source's result: late reports of a collected source
        are ignored, so ``done`` never exceeds ``total``."""
        if source_id in self.collected:
            return
        if fraction < 1.0:
            self.fractions[source_id] = max(0.0, fraction)
        else:
            self.fractions.pop(source_id, None)
        self.ctx.progress("prepare", self._done_so_far(), self.total)

    def _done_so_far(self) -> float:
        """Sources finished plus the parts done of those in flight (at most ``total``)."""
        return min(round(self.done + sum(self.fractions.values()), 2), self.total)

    def _collect(self, todo: list[dict[str, Any]], out: dict[str, Any]) -> None:
        self.done += 1
        self.collected.add(out["id"])
        self.fractions.pop(out["id"], None)
        name = self._finish_source(next(t for t in todo if t["id"] == out["id"]), out)
        self.ctx.progress("prepare", self._done_so_far(), self.total, file=name)

    def _finish_source(self, task: dict[str, Any], out: dict[str, Any]) -> str:
        """Record a worker's output in the manifest; returns the source's name."""
        src = next(s for s in self.sources if s["id"] == task["id"])
        if "error" in out:
            mf.remove_stem(self.project, task["stem"])
            self._source_error(src, out["error"])
            return str(src.get("name"))
        old = self.manifest["sources"].get(src["id"])
        entry = mf.make_entry(self.project, src, task["signature"], task["generation"],
                              task["segments"], out, task["clips"])
        entry["warnings"] = source_notes(src) + entry["warnings"]
        self.manifest["sources"][src["id"]] = entry
        try:
            self._save_manifest()
        except OSError as exc:
            if old is None:
                del self.manifest["sources"][src["id"]]
            else:
                self.manifest["sources"][src["id"]] = old
            mf.remove_stem(self.project, task["stem"])
            self._source_error(src, describe_os_error(
                exc, "writing", self.project.path(proj.MANIFEST_FILE), retry="run prepare again"))
            return str(src.get("name"))
        if old is not None:  # the new slices are safe: now the old ones can go
            mf.remove_files(self.project, mf.slice_names(old) - mf.slice_names(entry))
        self.processed += 1
        for w in entry["warnings"]:
            self.warnings.append({"path": src["path"], "message": w})
            self.ctx.log(w, "warning", path=src["path"])
        return str(src.get("name"))

    def _source_error(self, src: dict[str, Any], message: str) -> None:
        self.errors.append({"path": src["path"], "source_id": src["id"], "message": message})
        self.ctx.log(message, "warning", path=src["path"])

    def _save_manifest(self) -> None:
        self.manifest["format"] = proj.FORMAT
        self.manifest["settings"] = self.settings
        self.manifest["errors"] = [e for e in self.errors if "source_id" in e]
        self.project.save_manifest(self.manifest)

    def _all_errors(self, imported: dict | None) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = list((imported or {}).get("errors", []))
        seen = {e["path"] for e in errors}
        for src in self.sources:
            if src.get("status") != "ok" and src["path"] not in seen:
                errors.append({"path": src["path"], "message": src.get("error") or "unreadable"})
                seen.add(src["path"])
        errors += [{"path": e["path"], "message": e["message"]}
                   for e in self.errors if e["path"] not in seen]
        return errors

    def _write_report(self) -> str | None:
        from backend.dataset import health

        errors = self._all_errors(None)
        path = self.project.path(proj.REPORT_FILE)
        try:
            self._save_manifest()
            report = health.build_report(mf.report_slices(self.project, self.manifest), errors,
                                         self.project.sample_rate, version=self.project.version)
            atomic_write_json(path, mf.jsonable(report))
        except OSError as exc:
            msg = describe_os_error(exc, "writing", path, retry="run prepare again")
            self.errors.append({"path": str(path), "message": msg})
            self.ctx.log(msg, "error")
            return None
        return str(path)


def _missing_or_changed(src: dict[str, Any]) -> str | None:
    path = Path(src["path"])
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return (f"{path} is missing: it was moved or deleted after it was imported; import it "
                "again from its new place or remove it from the project")
    except OSError as exc:
        return describe_os_error(exc, "reading", path)
    if size != src.get("size"):
        return (f"{path} changed after it was imported; import it again to use the new "
                "version, or remove it from the project")
    return None


# command line -------------------------------------------------------------------
def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    importer.add_project_arguments(parser)
    parser.add_argument("--normalize", choices=("peak", "lufs", "none"),
                        help="loudness normalisation of the slices")
    parser.add_argument("--threshold-db", type=float,
                        help="silence threshold in dB for slicing")
    parser.add_argument("--chunk-seconds", type=float, help="target slice length in seconds")
    parser.add_argument("--force", action="store_true",
                        help="process every source again, even unchanged ones")


def args_from_cli(ns: argparse.Namespace) -> dict:
    args = importer.project_args_from_cli(ns)
    args["settings"] = {key: getattr(ns, dest) for dest, key in _CLI_SETTINGS.items()
                        if getattr(ns, dest) is not None}
    args["force"] = ns.force
    return args
