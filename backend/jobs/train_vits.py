"""The text-to-speech (VITS) side of the train job: the labelled clips it trains on, checked
before anything is written (their texts, the language, the speakers, the bases), and its task.

A VITS run trains on the rows of ``labels.json`` that have a text and a prepared clip, in one
language (asked for, the resumed run's, or the most common one of those rows). Each text must
be readable by the language's front-end: a character it cannot read is refused before
training, naming the clip, the row's line in the Labels table and the character. Speakers
come from the rows (a row without one is the project's name), sorted by name, ids 0..n-1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from backend.kernel import BadArgs, JobContext, JobError
from backend.train import run_settings as rs
from backend.train import tts_labels as tl
from backend.train import vits_data as vd

MAX_NAMED = tl.MAX_NAMED


def prepare(params: Any, args: dict, project: Any, run: str,
            stored: dict[str, Any] | None) -> Any:
    """``params`` (the job's common settings) completed for a VITS run, or BadArgs."""
    if args.get("duration") not in (None, *rs.DURATIONS):
        raise BadArgs(f"'duration' must be one of {', '.join(rs.DURATIONS)}, not "
                      f"{args['duration']!r}")
    try:
        return _prepare(params, args, project, run, stored)
    except tl.LabelsProblem as exc:
        raise BadArgs(str(exc), details=exc.details) from exc


def _prepare(params: Any, args: dict, project: Any, run: str,
             stored: dict[str, Any] | None) -> Any:
    found = tl.labelled(project)
    if not found.rows:
        raise tl.LabelsProblem(tl.nothing_labelled(project))
    language = _language(args, found, stored)
    _refuse_contradictions(args, run, stored, language)
    frontend = tl.frontend(language)
    used = found.of_language(language)
    if not used:
        raise tl.LabelsProblem(
            f"no labelled clip of project {project.root.name} is in {language}; the labelled "
            f"clips are in {_counts(found.languages())}: choose one of those languages, or set "
            "the rows' language on the Labels page")
    params = replace(params, language=language, sample_rate=rs.VITS_SAMPLE_RATE,
                     duration=args.get("duration") or "stochastic",
                     speakers=vd.speaker_table(used),
                     symbols=tuple(frontend.symbols), version="", f0=False)
    params = _keep_run_settings(params, run, stored)
    used = [r for r in used if r["speaker_name"] in params.speakers]
    tl.check_texts(used, language)
    _check_bases(params)
    return params


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{code} ({n} clip{'s' if n != 1 else ''})"
                     for code, n in counter.most_common())


def _language(args: dict, found: tl.Labelled, stored: dict[str, Any] | None) -> str:
    from backend.text import frontend as fe

    asked = args.get("language")
    if asked is not None:
        code = fe.language_code(asked)
        if not code:
            raise BadArgs(f"'language' must be a language code such as en, zh or ja, not "
                          f"{asked!r}")
        return code
    if stored is not None:
        return str(stored["language"])
    return str(found.default_language())


def _refuse_contradictions(args: dict, run: str, stored: dict[str, Any] | None,
                           language: str) -> None:
    """A resumed run keeps its size, language and duration predictor: a request that
    contradicts one is refused in one sentence."""
    if stored is None:
        return
    wanted = {k: args[k] for k in ("size", "duration") if args.get(k) is not None}
    if args.get("language") is not None:
        wanted["language"] = language
    diff = rs.differences(stored, wanted)
    if diff:
        raise BadArgs(f"run '{run}' was started with {rs.describe(stored)}; this request asks "
                      f"for {rs.describe(wanted, diff)}. Start a new run with another name, "
                      f"or leave {' and '.join(diff)} unset to resume it as it was.")


def _keep_run_settings(params: Any, run: str,
                       stored: dict[str, Any] | None) -> Any:
    """A resumed run keeps its size, language, duration predictor, speakers and symbols."""
    if stored is None:
        return params
    symbols = rs.read_run_info(params.run_dir).get("symbols")
    if not (isinstance(symbols, list) and len(symbols) == stored["n_symbols"]):
        symbols = list(params.symbols)  # a run.json without its table: the front-end's
    if len(symbols) != stored["n_symbols"]:
        raise BadArgs(f"run '{run}' was started with {stored['n_symbols']} symbols, and the "
                      f"{stored['language']} front-end now has {len(symbols)}: start a new "
                      "run with another name")
    return replace(params, size=stored["size"], duration=stored["duration"],
                   speakers=dict(stored["speakers"]), symbols=tuple(symbols))


def _check_bases(params: Any) -> None:
    """Each pretrained base must fit the model (``fit_vits_base``: the symbol table by
    symbol, the speaker table resized; it refuses a base of which nothing fits, or an RVC
    base); the report of what did not fit goes to the run's log when it starts."""
    if params.pretrained_g is None and params.pretrained_d is None:
        return
    from backend.models.vits import VitsGenerator, build_vits_discriminator
    from backend.train import pretrained as pt
    from backend.train.vits_bases import fit_vits_base

    model_cfg = train_config(params).model_config()
    for part, path, build in (("G", params.pretrained_g, lambda: VitsGenerator(model_cfg)),
                              ("D", params.pretrained_d,
                               lambda: build_vits_discriminator(model_cfg))):
        if path is not None:
            try:
                fit_vits_base(build(), path, part, list(params.symbols), dict(params.speakers))
            except pt.PretrainedError as exc:
                raise BadArgs(str(exc)) from exc


def train_config(params: Any) -> Any:
    from backend.train.vits_task import VitsTrainConfig

    return VitsTrainConfig(size=params.size, language=params.language,
                           symbols=list(params.symbols), speakers=dict(params.speakers),
                           use_sdp=params.duration == "stochastic",
                           sample_rate=params.sample_rate,
                           learning_rate=params.learning_rate)


def run(params: Any, ctx: JobContext) -> dict:
    from backend.jobs.train_loop import train_task
    from backend.train.vits_data import DatasetError
    from backend.train.vits_task import VitsTask

    cfg = train_config(params)
    try:
        task = VitsTask(cfg, params.root, params.run_dir, pretrained_g=params.pretrained_g,
                        pretrained_d=params.pretrained_d,
                        log=lambda msg, level: ctx.log(msg, level))
    except DatasetError as exc:
        raise JobError(str(exc)) from exc
    skipped = list(task.data.skipped)
    if skipped:
        named = "; ".join((f"line {s['line']}, " if s.get("line") else "")
                          + f"clip {s['clip']}: {s['reason']}" for s in skipped[:MAX_NAMED])
        more = f"; and {len(skipped) - MAX_NAMED} more" if len(skipped) > MAX_NAMED else ""
        what = "1 labelled clip is" if len(skipped) == 1 else f"{len(skipped)} labelled clips are"
        ctx.log(f"{what} left out: {named}{more}", "warning")
    result = train_task(params, ctx, task, {**cfg.to_dict(), **params.settings()},
                        (DatasetError,))
    return {**result, "model": "vits", "language": params.language,
            "speakers": dict(params.speakers), "dataset_seconds": round(task.data.seconds(), 1),
            "unusable_clips": skipped}
