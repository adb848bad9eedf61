"""Fine-tuning a VITS model from a base trained with another symbol table or other speakers.

``fit_vits_base(model, path, part, symbols, speakers)`` loads a pretrained generator ("G") or
discriminator ("D") into ``model`` and returns the ``LoadReport`` of
``backend.train.pretrained``:

- ``enc_p.emb.weight`` (one row per text symbol) is mapped BY SYMBOL: the row of each of the
  model's symbols is the base's row of the same symbol; symbols the base lacks keep the
  model's fresh rows; the base's symbols the model lacks are dropped. The report names each
  group (count and the first few).
- ``emb_g.weight`` (one row per speaker) is resized: a speaker named as in the base keeps
  the base's row, the others take the base's rows in order, and speakers beyond the base's
  table start fresh.
- Everything else is loaded key by key (``fit_state_dict``): each key that does not fit is
  reported with both shapes, missing and unexpected keys by name.

A base is an original ``G_``/``D_`` file or pretrained base, our inference file or package,
or our training checkpoint. The base's symbol table comes from the base itself (ours store it),
else from the ``config.json`` beside it (``symbols``, as forks write), else it is the
published 178-symbol English table when the base has 178 rows.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from backend.models.vits import file_formats as ff
from backend.models.vits import file_package
from backend.train.pretrained import (
    LoadReport,
    PretrainedError,
    fit_state_dict,
    read_object,
    state_dict_of,
)

EMB = "enc_p.emb.weight"
SPEAKERS = "emb_g.weight"
SHOWN = 8  # symbols named per group in the report
BASES_HOW = ("choose a VITS base (an original G_<step>.pth / D_<step>.pth, a pretrained "
             "VITS base or a Timbre Studio text-to-speech model)")


@dataclass
class BaseTables:
    symbols: list[str] | None  # None: unknown
    speakers: dict[str, int] | None
    where: str  # where the table came from, for the report


def fit_vits_base(model: nn.Module, path: Path | str, part: str, symbols: list[str],
                  speakers: dict[str, int]) -> LoadReport:
    """Load the base at ``path`` into ``model`` (the generator for part "G", the
    discriminator for "D"); raise ``PretrainedError`` when nothing of it fits."""
    path = Path(path).expanduser()
    obj = _read_base(path)
    state = dict(state_dict_of(path, obj, part))
    if any(k.startswith("enc_p.emb_phone.") for k in state):
        raise PretrainedError(f"{path.name} is an RVC base (voice conversion), not a VITS "
                              f"text-to-speech base: {BASES_HOW}")
    own = model.state_dict()
    special: dict[str, torch.Tensor] = {}
    lines: list[str] = []
    if part == "G":
        tables = base_tables(path, obj, state)
        if _fits_rows(state, own, EMB):
            special[EMB], line = map_symbols(state.pop(EMB), own[EMB], tables, symbols)
            lines.append(line)
        if _fits_rows(state, own, SPEAKERS):
            special[SPEAKERS], line = map_speakers(state.pop(SPEAKERS), own[SPEAKERS],
                                                   tables.speakers, speakers)
            lines.append(line)
    report = fit_state_dict(model, state, path)
    if special:
        model.load_state_dict(special, strict=False)
        report.loaded += len(special)
        report.missing = [k for k in report.missing if k not in special]
        report.adapted = lines + report.adapted
    if report.loaded == 0:
        what = "generator" if part == "G" else "discriminator"
        raise PretrainedError(f"no tensor of {path.name} fits this VITS {what}: {BASES_HOW}"
                              f" ({'G' if part == 'G' else 'D'}_ file for the {what})")
    return report


def _read_base(path: Path) -> Any:
    """What the base holds; our package (.zip) is read through the model inside it."""
    if not file_package.is_package(path):
        return read_object(path)
    with tempfile.TemporaryDirectory(prefix="timbre-base-") as tmp:
        try:
            member, _ = file_package.extract_package_model(path, Path(tmp) / "model.pth")
        except ff.TtsModelError as exc:
            raise PretrainedError(exc.message) from None
        return read_object(member)


def _fits_rows(state: dict[str, torch.Tensor], own: dict[str, torch.Tensor], key: str) -> bool:
    """Both hold a table ``key`` of the same row width (rows may differ)."""
    a, b = state.get(key), own.get(key)
    return a is not None and b is not None and a.ndim == 2 and b.ndim == 2 and \
        a.shape[1] == b.shape[1]


# where the base's tables come from ---------------------------------------------------------
def base_tables(path: Path, obj: Any, state: dict[str, torch.Tensor]) -> BaseTables:
    kind = ff.kind_of(obj)
    if kind == "export":
        return BaseTables(_strings(obj.get("symbols")), _names(obj.get("speakers")),
                          "stored in the base")
    if kind == "checkpoint":
        vits = obj["task"]["vits"]
        return BaseTables(_strings(vits.get("symbols")), _names(vits.get("speakers")),
                          "stored in the base")
    config = path.with_name(ff.CONFIG_NAME)
    if config.is_file():
        try:
            conf = ff.read_config(config, path)
        except ff.TtsModelError as exc:
            raise PretrainedError(exc.message) from None
        symbols = _strings(conf.get("symbols"))
        if symbols is not None:
            return BaseTables(symbols, _names(conf.get("speakers")), f"from {config.name}")
    from backend.text.symbols import VITS_EN

    rows = int(state[EMB].shape[0]) if EMB in state else 0
    if rows == len(VITS_EN):
        return BaseTables(list(VITS_EN), None, "the published English table")
    return BaseTables(None, None, "unknown")


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, list | tuple) and value and all(isinstance(s, str) for s in value):
        return list(value)
    return None


def _names(value: Any) -> dict[str, int] | None:
    if isinstance(value, dict):
        try:
            return {str(k): int(v) for k, v in value.items()}
        except (TypeError, ValueError):
            return None
    if isinstance(value, list | tuple):
        return {str(n): i for i, n in enumerate(value)}
    return None


# the symbol rows -------------------------------------------------------------------------
def _first(items: list[str], most: int = SHOWN) -> str:
    shown = " ".join(repr(s) for s in items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def map_symbols(base: torch.Tensor, fresh: torch.Tensor, tables: BaseTables,
                symbols: list[str]) -> tuple[torch.Tensor, str]:
    """The model's symbol rows: the base's row for each symbol it knows, else the fresh
    row; and the report line."""
    out = fresh.clone()
    head = f"{EMB}: symbol table {base.shape[0]} -> {fresh.shape[0]} symbols"
    if tables.symbols is None or len(tables.symbols) != base.shape[0]:
        why = "no symbol table" if tables.symbols is None else \
            f"a symbol table of {len(tables.symbols)} for {base.shape[0]} rows"
        return out, (f"{head}: the base has {why}, so no row can be matched by symbol and "
                     f"all {fresh.shape[0]} start fresh (put the base's config.json with "
                     "its \"symbols\" list beside it to keep them)")
    index = {s: i for i, s in enumerate(tables.symbols)}  # a repeated symbol: its last row
    mapped, new = [], []
    for row, symbol in enumerate(symbols):
        if symbol in index:
            out[row] = base[index[symbol]].to(out.dtype)
            mapped.append(symbol)
        else:
            new.append(symbol)
    ours = set(symbols)
    dropped = [s for s in dict.fromkeys(tables.symbols) if s not in ours]
    parts = [f"{len(mapped)} mapped by symbol ({tables.where}): {_first(mapped)}"]
    if new:
        parts.append(f"{len(new)} fresh (not in the base, they start from scratch): "
                     f"{_first(new)}")
    if dropped:
        parts.append(f"{len(dropped)} of the base dropped (not in this model's table): "
                     f"{_first(dropped)}")
    return out, f"{head}; " + "; ".join(parts)


# the speaker rows -----------------------------------------------------------------------
def map_speakers(base: torch.Tensor, fresh: torch.Tensor, base_names: dict[str, int] | None,
                 speakers: dict[str, int]) -> tuple[torch.Tensor, str]:
    """Speaker rows: by name where the base names the speaker, else the base's unused rows
    in order, else fresh; and the report line."""
    out = fresh.clone()
    n_base, n_own = base.shape[0], fresh.shape[0]
    names = {n: i for n, i in (base_names or {}).items() if 0 <= i < n_base}
    taken: set[int] = set()
    by_name, by_order, new = [], [], []
    order = range(n_own)
    who = {i: n for n, i in speakers.items()}
    for row in order:
        name = who.get(row, str(row))
        if name in names and names[name] not in taken:
            out[row] = base[names[name]].to(out.dtype)
            taken.add(names[name])
            by_name.append(name)
    free = (i for i in range(n_base) if i not in taken)
    for row in order:
        name = who.get(row, str(row))
        if name in by_name:
            continue
        src = next(free, None)
        if src is None:
            new.append(name)
            continue
        out[row] = base[src].to(out.dtype)
        taken.add(src)
        by_order.append(f"{name!r} <- base row {src}")
    parts = [f"{SPEAKERS}: speaker table {list(base.shape)} -> {list(fresh.shape)}"]
    if by_name:
        parts.append(f"{len(by_name)} kept by name: {_first(by_name)}")
    if by_order:
        parts.append(f"{len(by_order)} from the base's rows in order: "
                     f"{', '.join(by_order[:SHOWN])}")
    if new:
        parts.append(f"{len(new)} fresh: {_first(new)}")
    return out, "; ".join(parts)
