"""Inert stand-ins for the metadata classes fairseq checkpoints hold, and ``to_plain``.

fairseq files (RVC's ``hubert_base.pt``, ContentVec, other HuBERTs) keep their settings as
objects of packages we do not install: ``cfg`` as omegaconf containers (``DictConfig``,
``ListConfig``, value nodes, their ``Metadata``, ``typing.Any`` and builtin types as type
references, ``collections.defaultdict`` resolver caches), ``args`` as an ``argparse.Namespace``
and ``task_state`` as ``fairseq.data.dictionary.Dictionary`` objects. Each is registered with
torch's weights-only unpickler under its real name, as one of the classes below.

What torch's unpickler lets a registered class do decides their shape: NEWOBJ calls
``cls.__new__(cls, *args)``, BUILD calls ``__setstate__(state)``, REDUCE calls the object,
and item assignment (SETITEM) is allowed on real dicts only. So a stand-in is a class
whose ``__new__`` and ``__setstate__`` only store what they are given; a ``defaultdict`` is
rebuilt by a function that returns a real (empty) dict for the items that follow; type
references are :class:`TypeRef` strings, which cannot be called or instantiated. No stand-in
has any behaviour: nothing in a file can make one run code. :func:`to_plain` then turns the
loaded tree into plain dicts, lists and values.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from backend.safeload.errors import SafeLoadError


class TypeRef(str):
    """A class or type named in the file only as a value (``ref_type=typing.Any``)."""


class StandIn:
    """Records the constructor arguments and the state the pickle gives it; runs nothing."""

    qualname = "?"

    def __new__(cls, *args: Any) -> StandIn:
        obj = object.__new__(cls)
        obj.__dict__.update(args=args, state=None)
        return obj

    def __init__(self, *args: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.__dict__["state"] = state

    def __repr__(self) -> str:
        return f"<stand-in {self.qualname}>"


def _plain_dict(*_factory: Any) -> dict:
    """``collections.defaultdict(factory)`` as a plain dict (its items are set after it)."""
    return {}


_OMEGACONF = (
    "dictconfig.DictConfig", "listconfig.ListConfig", "base.ContainerMetadata", "base.Metadata",
    "nodes.AnyNode", "nodes.StringNode", "nodes.IntegerNode", "nodes.FloatNode",
    "nodes.BooleanNode", "nodes.BytesNode", "nodes.PathNode",
)
_CLASSES = ("argparse.Namespace", "fairseq.data.dictionary.Dictionary",
            *(f"omegaconf.{n}" for n in _OMEGACONF))
_TYPE_REFS = (*(f"typing.{n}" for n in ("Any", "Dict", "List", "Tuple", "Optional", "Union")),
              *(f"builtins.{n}" for n in
                ("dict", "list", "tuple", "str", "int", "float", "bool", "bytes")))


def _fairseq_standins() -> dict[str, Any]:
    found: dict[str, Any] = {
        name: type(name.rsplit(".", 1)[1], (StandIn,), {"qualname": name,
                                                         "__module__": __name__})
        for name in _CLASSES}
    found.update({name: TypeRef(name) for name in _TYPE_REFS})
    found["collections.defaultdict"] = _plain_dict
    return found


FAIRSEQ_STANDINS: dict[str, Any] = _fairseq_standins()
MAX_DEPTH = 200


def to_plain(obj: Any, depth: int = 0, seen: frozenset[int] = frozenset()) -> Any:
    """Stand-ins -> plain values: omegaconf containers and nodes -> their content, a
    Namespace or Dictionary -> the dict of its attributes, a TypeRef -> its name."""
    if depth > MAX_DEPTH:
        raise SafeLoadError("its metadata is nested implausibly deep")
    if isinstance(obj, TypeRef):
        return str(obj)
    if not isinstance(obj, StandIn | dict | list | tuple) or id(obj) in seen:
        return None if id(obj) in seen else obj
    seen = seen | {id(obj)}
    if isinstance(obj, StandIn):
        return _standin_to_plain(obj, depth, seen)
    if isinstance(obj, dict):
        items = ((k, to_plain(v, depth + 1, seen)) for k, v in obj.items())
        return OrderedDict(items) if isinstance(obj, OrderedDict) else dict(items)
    return [to_plain(v, depth + 1, seen) for v in obj]


def _standin_to_plain(obj: StandIn, depth: int, seen: frozenset[int]) -> Any:
    state = obj.state
    if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
        state = {**(state[0] or {}), **(state[1] or {})}
    if isinstance(state, dict):
        if "_content" in state:  # omegaconf container: its content, never its parent
            return to_plain(state["_content"], depth + 1, seen)
        if "_val" in state:  # omegaconf value node
            return to_plain(state["_val"], depth + 1, seen)
        return {k: to_plain(v, depth + 1, seen) for k, v in state.items()
                if k not in ("_parent", "_metadata")}
    return to_plain(list(obj.args), depth + 1, seen) if obj.args else None
