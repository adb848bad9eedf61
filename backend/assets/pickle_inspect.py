"""Read the key names and tensor shapes of a PyTorch file WITHOUT executing its pickle.

Some real checkpoints (fairseq's ``hubert_base.pt`` holds an ``argparse.Namespace`` and
omegaconf objects) refuse ``torch.load(weights_only=True)``. This reader walks the pickle
with an unpickler whose ``find_class`` never imports anything: tensor rebuild functions
become recorders of shape and dtype, a few harmless containers map to their builtin
equivalents, and every other global becomes an inert placeholder. Tensor data is never read.
Handles the zip format (``archive/data.pkl``) and the legacy pre-1.6 format.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_MAX_PICKLE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class TensorInfo:
    """What a tensor looks like, without its data."""

    shape: tuple[int, ...]
    dtype: str

    def __repr__(self) -> str:
        return f"TensorInfo({list(self.shape)}, {self.dtype})"


class Opaque:
    """Stands in for any object whose class we refuse to import; remembers nothing harmful."""

    qualname = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> Opaque:
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:  # dict-like subclasses
        self.__dict__.setdefault("items", {})[key] = value

    def append(self, value: Any) -> None:  # list-like subclasses
        self.__dict__.setdefault("list", []).append(value)

    def extend(self, values: Any) -> None:
        self.__dict__.setdefault("list", []).extend(values)

    def __call__(self, *args: Any, **kwargs: Any) -> Opaque:
        return Opaque()

    def __repr__(self) -> str:
        return f"<{self.qualname}>"


class _StorageType(Opaque):
    dtype = "unknown"


_STORAGE_DTYPES = {
    "FloatStorage": "float32", "HalfStorage": "float16", "BFloat16Storage": "bfloat16",
    "DoubleStorage": "float64", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "UntypedStorage": "uint8",
}


@dataclass(frozen=True)
class _Storage:
    dtype: str


def _rebuild_tensor(storage: Any, offset: Any = 0, size: Any = (), *args: Any) -> TensorInfo:
    dtype = storage.dtype if isinstance(storage, _Storage) else "unknown"
    shape = tuple(int(s) for s in size) if isinstance(size, (tuple, list)) else ()
    return TensorInfo(shape, dtype)


def _rebuild_parameter(data: Any, *args: Any) -> Any:
    return data


def _rebuild_from_type(func: Any, _type: Any, args: Any, _state: Any) -> Any:
    if func in _SAFE_FUNCS.values():
        return func(*args)
    return Opaque()


_SAFE_FUNCS = {
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
}
_SAFE_BUILTINS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set, ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice, ("builtins", "complex"): complex,
    ("builtins", "bytearray"): bytearray,
    ("__builtin__", "set"): set, ("__builtin__", "frozenset"): frozenset,
}


class _InertUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in _SAFE_FUNCS:
            return _SAFE_FUNCS[key]
        if key in _SAFE_BUILTINS:
            return _SAFE_BUILTINS[key]
        if module == "torch" and name in _STORAGE_DTYPES:
            return type(name, (_StorageType,), {"dtype": _STORAGE_DTYPES[name],
                                                "qualname": f"{module}.{name}"})
        if module == "torch" and name in ("float32", "float16", "bfloat16", "float64"):
            return name
        return type(name, (Opaque,), {"qualname": f"{module}.{name}"})

    def persistent_load(self, pid: Any) -> Any:
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if isinstance(pid, tuple) and len(pid) >= 2 and pid[0] == "storage":
            storage_type = pid[1]
            dtype = getattr(storage_type, "dtype", "unknown")
            return _Storage(dtype if isinstance(dtype, str) else "unknown")
        return _Storage("unknown")


def _unpickle(data: bytes | io.BufferedIOBase) -> Any:
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    return _InertUnpickler(stream).load()


def inspect_torch_file(path: Path) -> Any:
    """The object tree of a torch file with tensors replaced by ``TensorInfo``.

    Raises ``ValueError`` when the file is not a PyTorch pickle at all.
    """
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.endswith("data.pkl")]
            if not names:
                raise ValueError("a zip file without data.pkl (not a PyTorch checkpoint)")
            name = min(names, key=len)
            if zf.getinfo(name).file_size > _MAX_PICKLE_BYTES:
                raise ValueError("data.pkl is implausibly large")
            return _unpickle(zf.read(name))
    with open(path, "rb") as fh:
        try:
            magic = _InertUnpickler(fh).load()
        except Exception as exc:
            raise ValueError(f"not a PyTorch checkpoint ({exc.__class__.__name__})") from exc
        if magic != _LEGACY_MAGIC:
            # a plain pickle: the first object is the content
            return magic
        _InertUnpickler(fh).load()  # protocol version
        _InertUnpickler(fh).load()  # sys info
        return _InertUnpickler(fh).load()
