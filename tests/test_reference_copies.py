"""tests/data/reference holds copies of the shared reference manifests (facts: the exact
state-dict names and shapes of files in the wild). They must not drift from the originals."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "data" / "reference"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference"


@pytest.mark.parametrize("name", ["rvc_state_dict_manifest.json",
                                  "rmvpe_state_dict_manifest.json"])
def test_copy_matches_shared_reference(name: str) -> None:
    original = SHARED / name
    if not original.exists():
        pytest.skip(f"{SHARED} is not beside this checkout")
    assert (HERE / name).read_bytes() == original.read_bytes()
