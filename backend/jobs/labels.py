"""Export the labels to a GPT-SoVITS .list, a VITS filelist or JSON, or import one.

``python -m backend labels export --project P --format list|vits|json --out F`` writes the
rows that have text (paths: the prepared clips' absolute paths), atomically; stale rows,
rows without text and rows the format cannot carry are skipped and listed with the reason.
``python -m backend labels import --project P --file F [--format list|vits|json]`` matches
each line to a row by path (see backend/labels/matching.py), writes the texts as one undo
step, and lists every line that did not match with its number and why.
"""

from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.dataset.project import Project, ProjectError, abs_path
from backend.fsutil import atomic_write_text, describe_os_error
from backend.jobs.common import project_arg
from backend.kernel import BadArgs, JobContext, JobError
from backend.labels import formats as fm
from backend.labels import history, matching, rows, store
from backend.labels.ops import AUTO_FLAGS
from backend.protocol import E_IO

ACTIONS = ("export", "import")
VITS_MAX_TEXT = 190  # VITS's default data.max_text_len
_TITLES = {fm.LIST: "a GPT-SoVITS .list", fm.VITS: "a VITS filelist", fm.JSON: "JSON"}


@dataclass(frozen=True)
class LabelsParams:
    project: Project
    action: str
    format: str | None
    path: Path  # export: the file to write; import: the file read
    speaker_ids: bool | None = None  # VITS export: path|id|text (None: when 2+ speakers)
    speakers: bool = True  # import: take the speakers the file names
    parsed: fm.Parsed | None = None


def prepare(args: dict) -> LabelsParams:
    project = project_arg(args)
    action = args.get("action")
    if action not in ACTIONS:
        raise BadArgs(f"'action' must be export or import, not {action!r}")
    fmt = args.get("format")
    if fmt is not None and fmt not in fm.FORMATS:
        raise BadArgs(f"'format' must be one of {', '.join(fm.FORMATS)}, not {fmt!r}")
    ids = args.get("speaker_ids")
    if ids is not None and not isinstance(ids, bool):
        raise BadArgs("'speaker_ids' must be true, false or null (automatic)")
    if action == "export":
        params = LabelsParams(project, action, _export_format(fmt), _out_path(args.get("out")),
                              speaker_ids=ids)
        exportable(params)  # nothing to write is a bad request, refused before the job
        return params
    if not args.get("file"):
        raise BadArgs("'file' is required: the label file to import")
    path = abs_path(args["file"])
    try:
        parsed = fm.parse(path, fmt)
        present = view_rows(project, store.load(project.root))  # the files can be read
    except fm.FormatError as exc:
        raise BadArgs(str(exc), details={"file": str(path)}) from exc
    except ProjectError as exc:
        raise BadArgs(exc.message) from exc
    if not any(not r["stale"] for r in present):
        raise BadArgs(f"project {project.name} has no clips to put the texts on yet: import "
                      "the recordings and run Prepare first, then import the labels")
    return LabelsParams(project, action, parsed.format, path,
                        speakers=args.get("speakers", True) is not False, parsed=parsed)


def _export_format(fmt: str | None) -> str:
    if fmt is None:
        raise BadArgs(f"'format' is required for an export: one of {', '.join(fm.FORMATS)}")
    return fmt


def _out_path(out: Any) -> Path:
    if not out or not isinstance(out, str):
        raise BadArgs("'out' is required: the file to write")
    path = abs_path(out)
    if path.is_dir():
        raise BadArgs(f"{path} is a folder: give the file to write, such as "
                      f"{path / 'labels.list'}")
    if not path.parent.is_dir():
        raise BadArgs(f"the folder {path.parent} does not exist: create it or choose another")
    return path


def project_folder(params: LabelsParams) -> Path | None:
    """Import writes labels.json; an export only reads it (it may run beside a job)."""
    return params.project.root if params.action == "import" else None


def run(params: LabelsParams, ctx: JobContext) -> dict:
    if params.action == "export":
        return export(params, ctx)
    return import_file(params, ctx)


# export --------------------------------------------------------------------------------
def view_rows(project: Project, doc: store.LabelsDoc) -> list[dict[str, Any]]:
    """The rows as ``labels.get`` shows them, in step with the manifest (not saved here)."""
    rows.sync(doc, project)
    return rows.View(project).rows(doc)


def entries(view: list[dict[str, Any]], fmt: str, default_speaker: str,
            ) -> tuple[list[fm.Entry], list[dict[str, str]]]:
    out, skipped = [], []
    for r in view:
        e = fm.Entry(r["id"], r.get("clip_path"), str(r.get("text") or ""),
                     r.get("speaker") or default_speaker, r.get("language"),
                     r.get("source_name"), r["start"], r["end"])
        why = ("stale: its clip is gone since the recording was prepared again (the text is "
               "kept in labels.json)") if r.get("stale") else fm.entry_problem(e, fmt)
        if why:
            skipped.append({"id": r["id"], "reason": why})
        else:
            out.append(e)
    return out, skipped


def exportable(params: LabelsParams) -> tuple[int, list[fm.Entry], list[dict[str, str]]]:
    """(rows, the entries to write, the rows skipped); BadArgs when nothing can be written."""
    project = params.project
    try:
        view = view_rows(project, store.load(project.root))
    except ProjectError as exc:
        raise BadArgs(exc.message) from exc
    chosen, skipped = entries(view, params.format, project.name)
    if not chosen:
        first = f" (row {skipped[0]['id']}: {skipped[0]['reason']})" if skipped else \
            ": the project has no clips yet; run Prepare and Transcribe first"
        raise BadArgs(f"nothing to export: none of the {len(view)} rows can be written as "
                      f"{_TITLES[params.format]}{first}", details={"skipped": skipped})
    return len(view), chosen, skipped


def export(params: LabelsParams, ctx: JobContext) -> dict:
    project = params.project
    total, chosen, skipped = exportable(params)
    ctx.check()
    result: dict[str, Any] = {"out": str(params.path), "rows": len(chosen), "skipped": skipped,
                              "format": params.format}
    if params.format == fm.LIST:
        _write(params.path, fm.write_list(chosen))
    elif params.format == fm.JSON:
        _write(params.path, fm.write_json(chosen, project.name))
    else:
        ids = fm.speaker_ids(chosen)
        with_ids = len(ids) > 1 if params.speaker_ids is None else params.speaker_ids
        _write(params.path, fm.write_vits(chosen, ids if with_ids else None))
        if with_ids:
            side = fm.speakers_path(params.path)
            _write(side, fm.speakers_json(ids))
            result.update(speakers=ids, speakers_file=str(side))
        result["notes"] = vits_notes(project, chosen)
    ctx.progress("exporting", total, total, force=True)
    return result


def vits_notes(project: Project, chosen: list[fm.Entry]) -> list[str]:
    """What a VITS trainer needs to know about these clips (its loader reads wavs with
    scipy, divides by max_wav_value 32768, refuses another rate than its config's, and drops
    texts longer than max_text_len, 190 by default)."""
    settings = project.load_manifest().get("settings") or {}
    notes = [f"the clips are {project.sample_rate} Hz: set data.sampling_rate to "
             f"{project.sample_rate} in the VITS config (its loader refuses other rates)"]
    if settings.get("output_subtype", "FLOAT") != "PCM_16":
        notes.append("the clips are 32-bit float wavs, which VITS's loader divides by 32768 "
                     "as if they were 16-bit (it would train on near silence): set Prepare's "
                     "output format to 16-bit PCM (output_subtype PCM_16) and prepare again")
    long = sum(1 for e in chosen if len(e.text.strip()) > VITS_MAX_TEXT)
    if long:
        notes.append(f"{long} text(s) are longer than {VITS_MAX_TEXT} characters, which VITS "
                     "skips (data.max_text_len): split those rows or raise the limit")
    return notes


def _write(path: Path, text: str) -> None:
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise JobError(describe_os_error(exc, "writing", path), code=E_IO,
                       details={"path": str(path)}) from exc


# import --------------------------------------------------------------------------------
def import_file(params: LabelsParams, ctx: JobContext) -> dict:
    parsed = params.parsed
    assert parsed is not None
    project = params.project

    with_text = [ln for ln in parsed.lines if ln.text]
    empty = [{"line": ln.number, "path": ln.path or ln.source or "",
              "reason": "no text in the line: the row keeps its text"}
             for ln in parsed.lines if not ln.text]

    def change(doc: store.LabelsDoc) -> dict[str, Any]:
        found = matching.match(with_text, view_rows(project, doc))
        ctx.check()
        before, after = [], []
        for line, view in found.pairs:
            row = doc.row(view["id"])
            old = copy.deepcopy(row)
            _take(row, line, params.speakers, project.name)
            if row != old:
                before.append(old)
                after.append(row)
        if after:
            label = f"import {params.path.name} ({len(after)} rows)"
            history.record(doc, history.entry(label, before, after))
        return {"matched": len(found.pairs), "updated": len(after),
                "unmatched": sorted(parsed.malformed + empty + found.unmatched,
                                    key=lambda u: u["line"])}

    result = store.update(project.root, change)
    revision = store.load(project.root).revision
    ctx.progress("importing", len(parsed.lines), len(parsed.lines), force=True)
    ctx.event("labels.changed", {"project": str(project.root), "revision": revision})
    return {**result, "format": parsed.format, "file": str(params.path),
            "notes": parsed.notes, "revision": revision}


def _take(row: dict[str, Any], line: fm.Line, speakers: bool, default_speaker: str) -> None:
    """Write what the line says into the row (text, and language and speaker when given)."""
    if line.text != row.get("text"):
        row.update(text=line.text, origin="imported", confidence=None, words=None)
        if row.get("flag") in AUTO_FLAGS:
            row["flag"] = None  # someone has read it
    if line.language:
        row["language"] = line.language
    if speakers and line.speaker:
        row["speaker"] = None if line.speaker == default_speaker else line.speaker


# command line --------------------------------------------------------------------------
def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=ACTIONS, help="export the labels, or import a file")
    parser.add_argument("--project", required=True, help="project folder")
    parser.add_argument("--format", choices=fm.FORMATS,
                        help="list (GPT-SoVITS path|speaker|LANG|text), vits (path|text or "
                             "path|speaker_id|text) or json; import: read from the file when "
                             "not given")
    parser.add_argument("--out", help="export: the file to write")
    parser.add_argument("--file", help="import: the file to read")
    ids = parser.add_mutually_exclusive_group()
    ids.add_argument("--speaker-ids", dest="speaker_ids", action="store_true", default=None,
                     help="vits export: write path|speaker_id|text (default: when the rows "
                          "have two speakers or more); the names go to FILE.speakers.json")
    ids.add_argument("--no-speaker-ids", dest="speaker_ids", action="store_false",
                     help="vits export: write path|text")
    parser.add_argument("--ignore-speakers", action="store_true",
                        help="import: keep the rows' speakers (GPT-SoVITS writes its folder "
                             "name as the speaker)")


def args_from_cli(ns: argparse.Namespace) -> dict:
    args: dict[str, Any] = {"project": ns.project, "action": ns.action, "format": ns.format,
                            "speaker_ids": ns.speaker_ids, "speakers": not ns.ignore_speakers}
    if ns.action == "export":
        args["out"] = ns.out
    else:
        args["file"] = ns.file
    return args
