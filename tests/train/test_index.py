"""The faiss retrieval index: RVC's sizing rule, file name, reduction, odd paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.train import index as ix


@pytest.mark.parametrize(("n", "expected"), [(10, 1), (39, 1), (3900, 100), (100_000, 2564),
                                             (1_000_000, 16000)])
def test_ivf_list_rule(n: int, expected: int) -> None:
    assert ix.ivf_lists(n) == expected


def test_builds_a_loadable_index_with_the_rvc_name(unicode_dir: Path) -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 64)).astype(np.float32)
    feats = centres[rng.integers(0, 20, 4000)] + 0.01 * rng.normal(size=(4000, 64))
    res = ix.build_index(feats.astype(np.float32), unicode_dir / "index", "my voice", "v2")
    assert res.path.name == "added_IVF102_Flat_nprobe_1_my voice_v2.index"
    assert (res.vectors, res.n_ivf, res.dim, res.reduced) == (4000, 102, 64, False)
    index = ix.load_index(res.path)
    assert index.ntotal == 4000 and index.d == 64
    # a stored vector finds itself (exact nearest neighbour, distance ~0)
    dist, _ = index.search(feats[:5].astype(np.float32), 1)
    assert np.all(dist[:, 0] < 1e-6)
    assert not [p for p in res.path.parent.iterdir() if p != res.path]


def test_large_sets_are_reduced_by_kmeans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ix, "REDUCE_ABOVE", 2000)
    monkeypatch.setattr(ix, "REDUCED_CENTRES", 100)
    feats = np.random.default_rng(1).normal(size=(3000, 16)).astype(np.float32)
    res = ix.build_index(feats, tmp_path, "v", "v1")
    assert res.reduced and res.vectors == 100 and res.n_ivf == ix.ivf_lists(100) == 2


def test_no_features_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="run extraction first"):
        ix.build_index(np.zeros((0, 768), np.float32), tmp_path, "v", "v2")
