"""The faiss retrieval index over content features, as RVC tools expect it.

IVF-Flat with ``n_ivf = min(int(16 * sqrt(N)), N // 39)`` lists (at least 1);
above 200k vectors the features are first reduced to 10k k-means centres.
The file is named ``added_IVF<n>_Flat_nprobe_1_<name>_<version>.index`` (``<name>``
made safe by ``backend.names.safe_name``) and is
written through ``faiss.serialize_index`` plus an atomic rename, so paths with
non-ASCII characters work on every platform and no half-written index exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from backend.fsutil import atomic_write_bytes
from backend.names import safe_name

REDUCE_ABOVE = 200_000
REDUCED_CENTRES = 10_000


@dataclass(frozen=True)
class IndexResult:
    path: Path
    vectors: int
    n_ivf: int
    dim: int
    reduced: bool


def ivf_lists(n: int) -> int:
    return max(1, min(int(16 * math.sqrt(n)), n // 39))


def index_name(name: str, version: str, n_ivf: int) -> str:
    """The index file name; ``name`` (a project name) goes through ``safe_name``."""
    return f"added_IVF{n_ivf}_Flat_nprobe_1_{safe_name(name)}_{version}.index"


def reduce_features(feats: np.ndarray, centres: int | None = None, seed: int = 0) -> np.ndarray:
    km = faiss.Kmeans(feats.shape[1], centres or REDUCED_CENTRES, niter=10, seed=seed,
                      verbose=False, max_points_per_centroid=64)
    km.train(np.ascontiguousarray(feats, dtype=np.float32))
    return km.centroids.astype(np.float32)


def build_index(feats: np.ndarray, out_dir: Path, name: str, version: str, *,
                check: Callable[[], None] = lambda: None,
                progress: Callable[[str, int, int], None] | None = None,
                seed: int = 0) -> IndexResult:
    if feats.ndim != 2 or feats.shape[0] == 0:
        raise ValueError("no content features to index: run extraction first")
    feats = np.ascontiguousarray(feats, dtype=np.float32)
    rng = np.random.default_rng(seed)
    feats = feats[rng.permutation(feats.shape[0])]
    reduced = feats.shape[0] > REDUCE_ABOVE
    if reduced:
        if progress:
            progress("k-means reduction", 0, 1)
        feats = reduce_features(feats, seed=seed)
    check()
    n, dim = feats.shape
    n_ivf = ivf_lists(n)
    index = faiss.index_factory(dim, f"IVF{n_ivf},Flat")
    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = 1
    if progress:
        progress("training index", 0, 1)
    index.train(feats)
    batch = 8192
    for start in range(0, n, batch):
        check()
        index.add(feats[start:start + batch])
        if progress:
            progress("adding vectors", min(start + batch, n), n)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / index_name(name, version, n_ivf)
    atomic_write_bytes(path, faiss.serialize_index(index).tobytes())
    return IndexResult(path, n, n_ivf, dim, reduced)


def load_index(path: Path) -> faiss.Index:
    """Read an index (ours or another RVC tool's) from any path."""
    data = np.frombuffer(Path(path).read_bytes(), dtype=np.uint8)
    return faiss.deserialize_index(data)
