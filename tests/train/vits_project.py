"""A labelled speech project for the text-to-speech training tests, and a tiny VITS run on it.

Festival speaks a few sentences (one recording each), the real prepare job cuts each into one
clip, and the labels table gets the sentence as the clip's text. Run as a script to train in a
subprocess (the SIGKILL test kills it):
    python tests/train/vits_project.py PROJECT RUN_DIR EPOCHS BATCH
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
]
VOICES = {"Sally": "voice_cmu_us_slt_arctic_hts", "Kal": "voice_kal_diphone"}
_BUILT: dict[str, Path] = {}  # one labelled project per test session, copied by each user


def labelled_copy(tmp_path_factory: Any, dst: Path) -> Path:
    """A fresh copy of the session's labelled project (built on first use) at ``dst``."""
    import shutil

    if "base" not in _BUILT:
        base = tmp_path_factory.mktemp("vits labelled")
        _BUILT["base"] = make_labelled_project(base / "Voix d'essai – é")
    shutil.copytree(_BUILT["base"], dst)
    return dst


def make_labelled_project(root: Path, *, speakers: tuple[str, ...] = ("Sally",),
                          sentences: list[str] | None = None) -> Path:
    """One recording per (sentence, speaker), prepared into one clip each, every row
    labelled with its sentence, language "en" and its speaker's name."""
    from backend.labels import rows, store
    from tests.conftest import festival_wav
    from tests.labels.helpers import prepared_project

    sentences = sentences or SENTENCES
    voices = root.parent / f"{root.name} recordings"
    voices.mkdir(parents=True, exist_ok=True)
    said: dict[str, tuple[str, str]] = {}  # recording file name -> (text, speaker)
    for speaker in speakers:
        for i, text in enumerate(sentences):
            name = f"{speaker} {i}.wav"
            festival_wav(voices / name, text, VOICES[speaker])
            said[name] = (text, speaker)
    project = prepared_project(root, voices, chunk_seconds=30.0)
    by_source = {s["id"]: said[s["name"]] for s in project.load_sources()}

    def label(doc: store.LabelsDoc) -> None:
        rows.sync(doc, project)
        for row in doc.rows:
            text, speaker = by_source[row["source_id"]]
            row.update(text=text, language="en", speaker=speaker, origin="edited")

    store.update(project.root, label)
    return project.root


def vits_config(root: Path, size: str = "tiny", **kw: Any) -> Any:
    from backend.text import get
    from backend.train import vits_data
    from backend.train.vits_task import VitsTrainConfig

    speakers = vits_data.speaker_table(vits_data.labelled_rows(root))
    return VitsTrainConfig(size=size, language="en", symbols=list(get("en").symbols),
                           speakers=speakers, **kw)


def train(root: Path, run_dir: Path, epochs: int, batch: int, *, hooks: Any = None,
          save_every: int = 1, **kw: Any) -> tuple[Any, Any]:
    """A tiny VITS run through the engine (CPU, deterministic); (engine, task)."""
    from backend.train.engine import Engine, EngineConfig
    from backend.train.vits_task import VitsTask

    cfg = vits_config(root, **kw)
    task = VitsTask(cfg, root, run_dir)
    engine = Engine(EngineConfig(run_dir=run_dir, epochs=epochs, batch_size=batch,
                                 save_every_epochs=save_every, keep_last=0, device="cpu",
                                 deterministic=True, task_config=cfg.to_dict()), task, hooks)
    engine.run()
    return engine, task


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    train(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
