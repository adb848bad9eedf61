"""A restricted unpickler for fairseq checkpoints (tensors plus argparse/omegaconf metadata).

``torch.load(weights_only=True)`` refuses fairseq's metadata objects (``argparse.Namespace``,
omegaconf ``DictConfig``...). This unpickler resolves only tensor-rebuilding helpers and plain
containers; classes from a short list of metadata modules are replaced by inert :class:`Stub`
objects that merely record their constructor arguments and state, so no code from the file runs.
:func:`to_plain` then turns stubs into dicts/lists/values.
"""

from __future__ import annotations

import _compat_pickle
import builtins
import collections
import pickle
import types
from typing import Any

import torch
import torch._utils

# metadata modules whose classes become inert stubs
STUB_PREFIXES = ("argparse", "omegaconf", "fairseq", "typing", "enum", "pathlib", "dataclasses",
                 "numpy")
SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "defaultdict"): collections.defaultdict,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch", "Size"): torch.Size,
    **{("builtins", n): getattr(builtins, n)
       for n in ("set", "frozenset", "slice", "complex", "bytearray", "list", "dict", "tuple",
                 "str", "int", "float", "bool", "bytes", "object", "range")},
}
if hasattr(torch._utils, "_rebuild_parameter_with_state"):
    SAFE_GLOBALS[("torch._utils", "_rebuild_parameter_with_state")] = (
        torch._utils._rebuild_parameter_with_state)


class RefusedGlobal(pickle.UnpicklingError):
    """The file references a class or function outside the allow-list."""


class Stub:
    """Stands in for a metadata class; records args and state, runs nothing."""

    _qualname = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> Stub:
        obj = super().__new__(cls)
        obj._args, obj._state = args, None
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self._state = state

    def __call__(self, *args: Any, **kwargs: Any) -> Stub:  # e.g. a stubbed method: inert
        return type(self)(*args)

    def __repr__(self) -> str:
        return f"<stub {self._qualname}>"


def _stub_class(module: str, name: str) -> type[Stub]:
    return type(name, (Stub,), {"_qualname": f"{module}.{name}", "__module__": __name__})


def _safe_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as pickled for enum members: only on stub classes, giving a stub value."""
    if isinstance(obj, type) and issubclass(obj, Stub):
        return obj(name)
    raise RefusedGlobal(f"getattr on {type(obj).__name__}")


def _safe_reconstructor(cls: Any, base: Any, state: Any) -> Any:
    if isinstance(cls, type) and issubclass(cls, Stub):
        return cls.__new__(cls)
    raise RefusedGlobal(f"copyreg._reconstructor for {cls!r}")


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _compat_pickle.NAME_MAPPING:  # protocol 2 (Python 2 names)
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if (module, name) in SAFE_GLOBALS:
            return SAFE_GLOBALS[(module, name)]
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if (module, name) == ("builtins", "getattr"):
            return _safe_getattr
        if (module, name) == ("copyreg", "_reconstructor"):
            return _safe_reconstructor
        if module.split(".")[0] in STUB_PREFIXES:
            return _stub_class(module, name)
        raise RefusedGlobal(f"{module}.{name}")


def restricted_pickle_module() -> types.ModuleType:
    """A module object usable as ``torch.load(pickle_module=...)``."""
    mod = types.ModuleType("timbre_restricted_pickle")
    mod.Unpickler = RestrictedUnpickler  # type: ignore[attr-defined]
    mod.load = lambda f, **kw: RestrictedUnpickler(f, **kw).load()  # type: ignore[attr-defined]
    mod.UnpicklingError = pickle.UnpicklingError  # type: ignore[attr-defined]
    return mod


def to_plain(obj: Any, _seen: frozenset[int] = frozenset()) -> Any:
    """Stubs (Namespace, DictConfig, value nodes, enums) -> plain dicts, lists and values."""
    if id(obj) in _seen:
        return None
    seen = _seen | {id(obj)}
    if isinstance(obj, type) and issubclass(obj, Stub):
        return obj._qualname
    if isinstance(obj, Stub):
        return _stub_to_plain(obj, seen)
    if isinstance(obj, dict):
        return type(obj)((k, to_plain(v, seen)) for k, v in obj.items()) \
            if isinstance(obj, collections.OrderedDict) else \
            {k: to_plain(v, seen) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_plain(v, seen) for v in obj]
    return obj


def _stub_to_plain(obj: Stub, seen: frozenset[int]) -> Any:
    state = obj._state
    if isinstance(state, tuple) and len(state) == 2:  # (dict state, slot state)
        state = {**(state[0] or {}), **(state[1] or {})}
    if isinstance(state, dict):
        if "_content" in state:  # omegaconf container: only the content, never the parent
            return to_plain(state["_content"], seen)
        if "_val" in state:  # omegaconf value node
            return to_plain(state["_val"], seen)
        return {k: to_plain(v, seen) for k, v in state.items()}
    if obj._args:
        return to_plain(obj._args[0], seen) if len(obj._args) == 1 else to_plain(obj._args, seen)
    return obj._qualname
