"""Records real text-to-speech training sessions for the Train page's replay tests.

Run from the repo root: ``.venv/bin/python tests/desktop/record_tts_train_sessions.py``.
The project is a text-to-speech project (``model_kind`` vits) of espeak-ng sentences by two
speakers, really prepared, each clip given its sentence through the real ``labels.apply``
(``tests/train/vits_job_project.py``).

``tts_train_real`` (``sessions/tts_train_real.jsonl``): the real ``python -m backend
serve`` driven the way the Train page does: ``project.open``, ``train.suggest`` (model
vits), ``train.runs``, ``train.suggest`` (model rvc: the user looks at voice conversion,
which has no features), ``train.suggest`` (vits again), ``job.start`` train (``tts_args``:
tiny, 2 epochs, a checkpoint and a spoken sample every epoch) up to ``job.finished``, the
refresh (``train.suggest`` vits, ``train.runs``; the run's ``metrics.jsonl`` stored as a
``write`` directive before that answer), then ``export`` to a ``.pth`` and to a ``.zip``
(``tts_outputs``), each up to its ``job.finished``.

``tts_unreadable_real`` (``sessions/tts_unreadable_real.jsonl``): the same project with a
snowman in the text of the table's line 2: ``project.open``, ``train.suggest``,
``train.runs``, and the ``job.start`` that the backend refuses, naming the clip, the line
and the character.

``tts_base_real`` (``sessions/tts_base_real.jsonl``): the same project, one epoch from an
original-layout base ``G_1000.pth`` (``tts_base``: 50 symbols, 5 of them unknown to the
English front-end, three speakers) up to ``job.finished``: the job's log says how the
symbols and speakers were mapped. The base is stored as an empty ``write`` directive (the
form checks that the file exists).

Pass scenario names to record only those. Paths under the temporary folder are written as
``$PROJECT``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.desktop.record_sessions import Recorder  # noqa: E402
from tests.desktop.record_train_sessions import PROJECT_NAME, _finish  # noqa: E402

SNOWMAN_LINE = 2  # the line of the Labels table whose text gets a character English lacks
SPEAKERS = ("Anna", "Bert")


def tts_project(folder: Path) -> Path:
    """A prepared text-to-speech project of two speakers whose clips all have their text."""
    from tests.train.vits_job_project import make_labelled_project

    return make_labelled_project(folder / PROJECT_NAME, speakers=SPEAKERS)


def tts_args(project: Path) -> dict:
    """What the Train page sends with the test's text-to-speech settings."""
    return {"project": str(project), "run": "main", "size": "tiny", "epochs": 2,
            "batch_size": 2, "learning_rate": 0.0002, "save_every": 1, "keep_last": 3,
            "pretrained_g": None, "pretrained_d": None, "device": "cpu", "precision": "auto",
            "tensorboard": False, "model": "vits", "language": None,
            "duration": "deterministic"}


def tts_outputs(folder: Path) -> dict[str, Path]:
    out = folder / "exports é"
    return {"model": out / "Voice ü speech.pth", "package": out / "Voice ü speech.zip"}


def _note(rec: Recorder, name: str) -> None:
    rec.session.insert(0, {"fake": "note", "text": "recorded from the real backend by "
                           f"tests/desktop/record_tts_train_sessions.py {name}"})


def _suggest(rec: Recorder, project: Path, model: str) -> dict:
    return rec.send("train.suggest", {"project": str(project), "model": model})


def tts_train_real(folder: Path) -> Path:
    project = tts_project(folder)
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "tts_train_real")
    rec.send("project.open", {"path": str(project)})
    suggested = _suggest(rec, project, "vits")
    if not suggested.get("result", {}).get("ready"):
        raise SystemExit(f"the project is not ready for text-to-speech: {suggested}")
    rec.send("train.runs", {"project": str(project)})
    _suggest(rec, project, "rvc")
    _suggest(rec, project, "vits")
    _finish(rec, rec.send("job.start", {"kind": "train", "args": tts_args(project)}))
    _suggest(rec, project, "vits")
    at = len(rec.session)
    rec.send("train.runs", {"project": str(project)})
    metrics = project / "train" / "main" / "metrics.jsonl"
    rec.session.insert(at + 1, {"fake": "write", "path": str(metrics),
                                "text": metrics.read_text(encoding="utf-8")})
    for key, out in tts_outputs(folder).items():
        args = {"project": str(project), "run": "main", "out": str(out)}
        _finish(rec, rec.send("job.start", {"kind": "export", "args": args}))
        if not out.is_file():
            raise SystemExit(f"the {key} export wrote no {out}")
    rec.close()
    return rec.write("tts_train_real")


def tts_unreadable_real(folder: Path) -> Path:
    from tests.train.vits_job_project import set_text, shown_rows

    project = tts_project(folder)
    set_text(project, shown_rows(project)[SNOWMAN_LINE - 1]["id"], "Hello ☃ there.")
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "tts_unreadable_real")
    rec.send("project.open", {"path": str(project)})
    _suggest(rec, project, "vits")
    rec.send("train.runs", {"project": str(project)})
    refused = rec.send("job.start", {"kind": "train", "args": tts_args(project)})
    if "error" not in refused:
        raise SystemExit(f"the unreadable text was not refused: {refused}")
    rec.close()
    return rec.write("tts_unreadable_real")


BASE_G = Path("bases ü") / "G_1000.pth"
BASE_ODD = ("Ж", "Щ", "Ы", "Э", "Ю")  # symbols of the base the English table lacks


def tts_base(folder: Path) -> Path:
    """An original-layout ``G_1000.pth`` of the tiny size (deterministic duration) with a
    50-symbol table (45 of the English front-end's, shuffled, and ``BASE_ODD``) and three
    speakers, its ``config.json`` (with the ``symbols``) beside it."""
    import random

    from backend.text import get
    from tests.models.vits_files import manifest, tiny_config, tiny_generator, write_original

    ours = list(get("en").symbols)
    table = random.Random(5).sample(ours[1:], 45) + list(BASE_ODD)
    state = tiny_generator(tiny_config(len(table), 3, use_sdp=False)).state_dict()
    conf = dict(manifest()["variants"]["ljs_base"]["config"], symbols=table,
                speakers={"Anna": 0, "Carl": 1, "Dora": 2})
    return write_original(folder / BASE_G.parent, "ljs_base", config=conf, state=state)


def tts_base_real(folder: Path) -> Path:
    project = tts_project(folder)
    base = tts_base(folder)
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "tts_base_real")
    rec.session.insert(1, {"fake": "write", "path": str(base), "text": ""})  # the form checks
    rec.send("project.open", {"path": str(project)})
    _suggest(rec, project, "vits")
    rec.send("train.runs", {"project": str(project)})
    args = {**tts_args(project), "epochs": 1, "pretrained_g": str(base)}
    _finish(rec, rec.send("job.start", {"kind": "train", "args": args}))
    rec.close()
    return rec.write("tts_base_real")


def main(names: list[str]) -> None:
    scenarios = {"tts_train_real": tts_train_real, "tts_unreadable_real": tts_unreadable_real,
                 "tts_base_real": tts_base_real}
    for name in names or list(scenarios):
        with tempfile.TemporaryDirectory(prefix="timbre-rec-") as tmp:
            print("recorded", scenarios[name](Path(tmp)))


if __name__ == "__main__":
    main(sys.argv[1:])
