"""Hostile files built at test time, and fairseq files in their real layout.

A :class:`Payload` unpickles into a call that creates ``marker``: ``os.system("touch ...")``,
``builtins.exec`` of Python code, or ``pathlib.Path.touch`` (reached through
``builtins.getattr``). :func:`save` writes an object in torch's zip format, its legacy
format, or as a raw pickle (protocol 2, as torch writes, or 4, Python's default).
:func:`hide` puts a payload into a model file's ``cfg``, ``args``, ``info``, next to the
weights or among them.

:func:`real_fairseq_checkpoint` builds a fairseq HuBERT checkpoint pickled under the real
class names of the packages we do not install (omegaconf ``DictConfig``/``ListConfig``/
nodes/``ContainerMetadata`` with ``typing.Any`` and a ``defaultdict`` resolver cache,
``argparse.Namespace`` args, a ``fairseq.data.dictionary.Dictionary`` in ``task_state``, as
RVC's ``hubert_base.pt`` holds), with classes registered under those module names only
while saving.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import pathlib
import pickle
import shlex
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

FORMATS = ("zip", "legacy", "raw2", "raw4")
PLACES = ("cfg", "args", "info", "beside", "in_weights")
KINDS = ("os.system", "exec", "path.touch")


class Payload:
    def __init__(self, marker: Path, kind: str = "os.system") -> None:
        self.marker, self.kind = marker, kind

    def __reduce__(self) -> tuple:
        if self.kind == "os.system":
            return (os.system, (f"touch {shlex.quote(str(self.marker))}",))
        if self.kind == "exec":
            return (exec, (f"open({str(self.marker)!r}, 'w').close()",))
        return (pathlib.Path.touch, (self.marker,))


def save(obj: Any, path: Path, fmt: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "zip":
        torch.save(obj, path)
    elif fmt == "legacy":
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(obj, protocol=int(fmt[-1])))
    return path


def hide(weights: dict[str, Any], payload: Payload, place: str, container: str | None = "model"
         ) -> dict[str, Any]:
    """A model file's top-level dict with ``payload`` in ``place``."""
    if place == "in_weights":
        weights = {**weights, "encoder.evil": payload}
    top: dict[str, Any] = {container: weights} if container else dict(weights)
    if place in ("cfg", "args", "info"):
        top[place] = {"model": {"_name": "hubert", "extra": payload}} if place == "cfg" \
            else payload
    elif place == "beside":
        top["optimizer_history"] = [{"criterion_name": "x", "hook": payload}]
    return top


# fairseq's real layout ------------------------------------------------------------------
def _cls(full_name: str) -> type:
    module, name = full_name.rsplit(".", 1)
    return type(name, (), {"__module__": module, "__qualname__": name})


FAKE = {n: _cls(n) for n in (
    "omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig",
    "omegaconf.nodes.AnyNode", "omegaconf.nodes.StringNode", "omegaconf.nodes.IntegerNode",
    "omegaconf.base.ContainerMetadata", "omegaconf.base.Metadata",
    "fairseq.data.dictionary.Dictionary")}


@contextlib.contextmanager
def fake_modules() -> Iterator[None]:
    """Register :data:`FAKE` under the real module names while pickling."""
    names = {c.__module__ for c in FAKE.values()}
    names |= {".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 1)}
    saved = {n: sys.modules.get(n) for n in names}
    try:
        for n in sorted(names, key=len):
            sys.modules[n] = types.ModuleType(n)
        for c in FAKE.values():
            setattr(sys.modules[c.__module__], c.__qualname__, c)
        yield
    finally:
        for n, old in saved.items():
            if old is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = old


def _new(name: str, **attrs: Any) -> Any:
    obj = object.__new__(FAKE[name])
    obj.__dict__.update(attrs)
    return obj


def _meta(container: bool, key: Any, object_type: Any) -> Any:
    common = {"ref_type": typing.Any, "object_type": object_type, "optional": True, "key": key,
              "flags": {}, "flags_root": False}
    if not container:
        return _new("omegaconf.base.Metadata", **common)
    return _new("omegaconf.base.ContainerMetadata", **common, key_type=typing.Any,
                element_type=typing.Any, resolver_cache=collections.defaultdict(dict))


def omegaconf(value: Any, parent: Any = None, key: Any = None) -> Any:
    """``value`` (nested dicts, lists, values) as omegaconf containers and nodes."""
    if isinstance(value, dict | list):
        is_dict = isinstance(value, dict)
        node = _new("omegaconf.dictconfig.DictConfig" if is_dict
                    else "omegaconf.listconfig.ListConfig", _parent=parent,
                    _metadata=_meta(True, key, dict if is_dict else list))
        items = value.items() if is_dict else enumerate(value)
        content = {k: omegaconf(v, node, k) for k, v in items}
        node.__dict__["_content"] = content if is_dict else list(content.values())
        return node
    kind = {str: "StringNode", int: "IntegerNode"}.get(type(value), "AnyNode")
    return _new(f"omegaconf.nodes.{kind}", _parent=parent, _val=value,
                _metadata=_meta(False, key, None))


def fairseq_dictionary(symbols: list[str]) -> Any:
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    allsym = specials + symbols
    return _new("fairseq.data.dictionary.Dictionary", bos_word="<s>", unk_word="<unk>",
                pad_word="<pad>", eos_word="</s>", symbols=allsym, count=[1] * len(allsym),
                indices={s: i for i, s in enumerate(allsym)}, bos_index=0, pad_index=1,
                eos_index=2, unk_index=3, nspecial=4)


def real_fairseq_checkpoint(state: dict[str, torch.Tensor], cfg: dict[str, Any],
                            extra_task: dict[str, Any] | None = None) -> dict[str, Any]:
    task = {**cfg["task"], "labels": ["km"], **(extra_task or {})}
    return {"model": state, "cfg": omegaconf({**cfg, "task": task}),
            "args": argparse.Namespace(**cfg["model"]),
            "task_state": {"dictionaries": [fairseq_dictionary([str(i) for i in range(8)])]},
            "optimizer_history": [{"criterion_name": "HubertCriterion", "num_updates": 5}],
            "extra_state": {"epoch": 3, "best": 1.25}}


def save_real_fairseq(obj: dict[str, Any], path: Path, fmt: str = "zip") -> Path:
    with fake_modules():
        save(obj, path, fmt)
    assert "omegaconf" not in sys.modules and "fairseq" not in sys.modules
    return path
