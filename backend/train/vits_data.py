"""Training examples for a VITS text-to-speech model, from the project's labelled clips.

One example per row of ``labels.json`` that has a text, a prepared clip (not stale, not
pending) and the run's language: the text read by the language's front-end (symbol ids in
the model's table, blanks interspersed when the config adds them), the clip's audio
resampled to the model's rate and its speaker id. Every other labelled row is named in
``skipped`` with the reason. The train/validation split is written once to
``<run>/split.json`` (row ids) and reused when the run resumes, so a resumed run trains on
the same rows. The whole set stays in memory when it fits in a quarter of the free RAM;
otherwise clips are read from disk per batch.

The row listing (``labelled_rows``, ``speaker_table``, ``language_counts``) needs no torch:
``train.suggest`` and the job's checks use it too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.dataset import audio_io
from backend.dataset import project as proj
from backend.fsutil import atomic_write_json, read_json
from backend.labels import rows as label_rows
from backend.labels import store
from backend.text import frontend as fe
from backend.text.symbols import intersperse, symbol_ids
from backend.train.rvc_data import DatasetError

SPLIT_FILE = "split.json"
SPLIT_FORMAT = 1
MAX_SECONDS = 20.0  # longer clips are left out (alignment cost grows with text x frames)
VALIDATION_SHARE = 0.02
MAX_VALIDATION = 8
MIN_FOR_VALIDATION = 5  # fewer usable rows: all of them train


# --- the rows (no torch) ----------------------------------------------------------------
def labelled_rows(root: Path) -> list[dict[str, Any]]:
    """The view rows (``labels.rows.View``) of the project that hold a text and have a
    prepared clip, in the table's order; each with ``line`` (1-based, as the Labels page
    numbers them) and ``speaker_name`` (the row's speaker, else the project's name)."""
    project = proj.open_project(root)
    doc = store.load(project.root)
    label_rows.sync(doc, project)  # in memory only: stale marks follow the prepared clips
    out = []
    for line, row in enumerate(label_rows.View(project).rows(doc), start=1):
        if row["stale"] or not str(row.get("text") or "").strip():
            continue
        out.append({**row, "line": line,
                    "speaker_name": str(row.get("speaker") or project.name)})
    return out


def row_language(row: dict[str, Any]) -> str:
    return fe.language_code(row.get("language")) or fe.DEFAULT_LANGUAGE


def language_counts(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(row_language(r) for r in rows)


def speaker_table(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Speaker name -> id: the sorted names of the rows' speakers, ids 0..n-1."""
    return {name: i for i, name in enumerate(sorted({r["speaker_name"] for r in rows}))}


# --- examples ---------------------------------------------------------------------------
@dataclass
class Utterance:
    row: str  # labels row id
    clip: str  # prepared clip name
    path: Path
    text: str
    ids: list[int]  # model symbol ids, blanks included
    sid: int
    seconds: float


@dataclass
class Example:
    name: str
    ids: np.ndarray  # [T_text] int64
    wav: np.ndarray  # [frames * hop] float32
    sid: int

    @property
    def frames(self) -> int:
        return int(self.wav.shape[0])


@dataclass
class Batch:
    x: Any  # [B, T_text] long
    x_lengths: Any  # [B]
    wav: Any  # [B, 1, T_spec * hop]
    spec_lengths: Any  # [B] frames
    sid: Any  # [B]

    def to(self, device: Any) -> Batch:
        return Batch(*(t.to(device, non_blocking=True) for t in self.__dict__.values()))

    def split(self, parts: int) -> list[Batch]:
        """``parts`` consecutive sub-batches, each trimmed to its own longest item."""
        n = self.sid.shape[0]
        bounds = np.linspace(0, n, parts + 1).astype(int)
        hop = self.wav.shape[-1] // max(int(self.spec_lengths.max()), 1)
        out = []
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if b > a:
                t_x, t_y = int(self.x_lengths[a:b].max()), int(self.spec_lengths[a:b].max())
                out.append(Batch(self.x[a:b, :t_x], self.x_lengths[a:b],
                                 self.wav[a:b, :, :t_y * hop], self.spec_lengths[a:b],
                                 self.sid[a:b]))
        return out


def collate(examples: list[Example], hop: int) -> Batch:
    import torch

    b = len(examples)
    t_x = max(len(e.ids) for e in examples)
    t_y = max(e.frames // hop for e in examples)
    x = torch.zeros(b, t_x, dtype=torch.long)
    wav = torch.zeros(b, 1, t_y * hop)
    x_len = torch.zeros(b, dtype=torch.long)
    y_len = torch.zeros(b, dtype=torch.long)
    for i, e in enumerate(examples):
        x[i, :len(e.ids)] = torch.from_numpy(e.ids)
        wav[i, 0, :e.frames] = torch.from_numpy(e.wav)
        x_len[i], y_len[i] = len(e.ids), e.frames // hop
    return Batch(x, x_len, wav, y_len, torch.tensor([e.sid for e in examples]))


@dataclass
class DataSettings:
    language: str
    symbols: list[str]
    speakers: dict[str, int]
    sample_rate: int
    hop: int
    add_blank: bool


@dataclass
class _Sorting:
    usable: list[Utterance] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def skip(self, row: dict[str, Any], reason: str) -> None:
        self.skipped.append({"clip": row.get("clip") or row["id"], "row": row["id"],
                             "line": row.get("line"), "reason": reason})


class VitsDataset:
    """The training rows by index (``lengths()`` in frames feeds the bucket sampler)."""

    def __init__(self, root: Path, settings: DataSettings, run_dir: Path, log: Any = None):
        self.root, self.s, self.run_dir = root, settings, run_dir
        self._log = log or (lambda msg, level: None)
        sorting = self._sort(labelled_rows(root))
        self.skipped = sorting.skipped
        self.train, self.validation = self._split(sorting)
        self._cache: dict[str, Example] = {}
        self.in_memory = self._fits_in_memory()
        if self.in_memory:
            for utt in list(self.train):
                try:
                    self._cache[utt.row] = self._load(utt)
                except audio_io.AudioLoadError as exc:
                    self.train.remove(utt)
                    self.skipped.append({"clip": utt.clip, "row": utt.row, "line": None,
                                         "reason": str(exc)})
        if not self.train:
            raise DatasetError(self._nothing_to_train())

    # which rows -----------------------------------------------------------------------
    def _sort(self, rows: list[dict[str, Any]]) -> _Sorting:
        s, out = self.s, _Sorting()
        ids = symbol_ids(s.symbols)
        mine = []
        for row in rows:
            if row["clip"] is None:
                out.skip(row, "its clip is not prepared yet: run Prepare")
            elif row_language(row) != s.language:
                out.skip(row, f"its language is {row_language(row)}; this run trains "
                              f"{s.language}")
            elif row["speaker_name"] not in s.speakers:
                out.skip(row, f"its speaker {row['speaker_name']!r} is not one of this "
                              "run's speakers: start a new run to train on it")
            elif row["duration"] > MAX_SECONDS:
                out.skip(row, f"it lasts {row['duration']:.1f} s, longer than "
                              f"{MAX_SECONDS:g} s: split it on the Labels page")
            else:
                mine.append(row)
        try:
            frontend = fe.get(s.language)
        except fe.FrontendUnavailable as exc:
            raise DatasetError(exc.message) from exc
        readings = frontend.read_many([r["text"] for r in mine])
        for row, reading in zip(mine, readings, strict=True):
            lacking = [sym for sym in reading.symbols if sym not in ids]
            if not reading.ok:
                out.skip(row, "its text cannot be read: " + "; ".join(reading.problems()))
            elif lacking:
                out.skip(row, f"the model's symbol table lacks {', '.join(sorted(set(lacking)))}")
            else:
                self._add(out, row, [ids[sym] for sym in reading.symbols])
        return out

    def _add(self, out: _Sorting, row: dict[str, Any], ids: list[int]) -> None:
        if self.s.add_blank:
            ids = intersperse(ids)
        frames = int(row["duration"] * self.s.sample_rate) // self.s.hop
        if not ids or len(ids) > frames:
            out.skip(row, f"its clip is too short for its text ({frames} frames for "
                          f"{len(ids)} symbols): check the text")
            return
        out.usable.append(Utterance(row["id"], row["clip"], Path(row["clip_path"]),
                                    row["text"], ids, self.s.speakers[row["speaker_name"]],
                                    float(row["duration"])))

    def _split(self, sorting: _Sorting) -> tuple[list[Utterance], list[Utterance]]:
        """The run's train/validation rows: from ``split.json`` when the run has one,
        else chosen now and written there."""
        path = self.run_dir / SPLIT_FILE
        saved = self._read_split(path)
        by_row = {u.row: u for u in sorting.usable}
        if not _valid_split(saved):
            return self._new_split(path, sorting.usable)
        train_ids, val_ids = saved["train"], set(saved["validation"])
        for u in sorting.usable:
            if u.row not in val_ids and u.row not in set(train_ids):
                sorting.skipped.append({"clip": u.clip, "row": u.row, "line": None,
                                        "reason": "it was labelled after this run started "
                                                  "(see its split.json): start a new run "
                                                  "to train on it"})
        gone = [r for r in train_ids if r not in by_row]
        if gone:
            self._log(f"{len(gone)} of the {len(train_ids)} training rows of this run can no "
                      f"longer be used ({', '.join(gone[:5])}); the run goes on without them",
                      "warning")
        return ([by_row[r] for r in train_ids if r in by_row],
                [by_row[r] for r in saved["validation"] if r in by_row])

    def _read_split(self, path: Path) -> Any:
        if not path.is_file():
            return None
        try:
            saved = read_json(path)
        except (OSError, ValueError) as exc:
            saved = exc
        if not _valid_split(saved):
            why = saved if isinstance(saved, Exception) else "not a split file"
            self._log(f"{path} cannot be read ({why}); the rows are split again (the same "
                      "way when they have not changed)", "warning")
            return None
        return saved

    def _new_split(self, path: Path, usable: list[Utterance]) -> tuple[list, list]:
        n_val = 0 if len(usable) < MIN_FOR_VALIDATION else \
            max(1, min(MAX_VALIDATION, round(len(usable) * VALIDATION_SHARE)))
        pick = set(np.random.default_rng(0).choice(len(usable), n_val, replace=False).tolist())
        val = [u for i, u in enumerate(usable) if i in pick]
        train = [u for i, u in enumerate(usable) if i not in pick]
        if train:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(path, {"format": SPLIT_FORMAT, "language": self.s.language,
                                     "train": [u.row for u in train],
                                     "validation": [u.row for u in val],
                                     "clips": {u.row: u.clip for u in usable}})
        return train, val

    def _nothing_to_train(self) -> str:
        if not self.skipped:
            return (f"project {self.root.name} has no labelled clips in {self.s.language}: "
                    "give the clips their text on the Labels page")
        named = "; ".join(f"{s['clip']} ({s['reason']})" for s in self.skipped[:5])
        more = f" and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
        return f"none of the labelled clips can be used for training: {named}{more}"

    # audio ----------------------------------------------------------------------------
    def _fits_in_memory(self) -> bool:
        import psutil

        need = sum(u.seconds for u in self.train) * self.s.sample_rate * 4
        return need < psutil.virtual_memory().available / 4

    def _load(self, utt: Utterance) -> Example:
        wav, _ = audio_io.load(utt.path, sr=self.s.sample_rate)
        frames = len(wav) // self.s.hop
        if frames < len(utt.ids):
            raise audio_io.AudioLoadError(utt.path, f"clip {utt.clip} is too short for its "
                                                    "text: run Prepare again")
        return Example(utt.clip, np.asarray(utt.ids, np.int64),
                       np.ascontiguousarray(wav[:frames * self.s.hop], np.float32), utt.sid)

    def __len__(self) -> int:
        return len(self.train)

    def __getitem__(self, i: int) -> Example:
        return self.example(self.train[i])

    def example(self, utt: Utterance) -> Example:
        if utt.row in self._cache:
            return self._cache[utt.row]
        try:  # read from disk per batch: a clip damaged since the start stops the run
            return self._load(utt)
        except audio_io.AudioLoadError as exc:
            raise DatasetError(f"clip {utt.clip}: {exc}; run Prepare again") from exc

    def lengths(self) -> list[int]:
        """Frames of each training clip (from the audio when it is in memory)."""
        hop, sr = self.s.hop, self.s.sample_rate
        return [self._cache[u.row].frames // hop if u.row in self._cache
                else int(u.seconds * sr) // hop for u in self.train]

    def seconds(self) -> float:
        return sum(u.seconds for u in self.train)


def _valid_split(saved: Any) -> bool:
    return (isinstance(saved, dict) and saved.get("format") == SPLIT_FORMAT
            and isinstance(saved.get("train"), list) and isinstance(saved.get("validation"),
                                                                      list)
            and all(isinstance(r, str) for r in saved["train"] + saved["validation"]))
