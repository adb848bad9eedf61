"""An asset accepted by structure although its checksum differs is marked as such: in the
install record, in ``assets.list`` rows, in the CLI table; and it gets no special treatment
when it is loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from backend.assets.catalogue import load_catalogue
from backend.assets.importer import import_asset
from backend.assets.store import asset_path, list_assets, read_records
from backend.jobs.base import JobContext
from tests.security.payloads import Payload

ROOT = Path(__file__).resolve().parents[2]
NOTE = "verified by structure only (checksum differs)"


@pytest.fixture
def catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.delenv("TIMBRE_ASSET_CATALOGUE", raising=False)
    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "user data ü"))
    return load_catalogue()


def _rmvpe_shaped(path: Path, catalogue: dict) -> Path:
    keys = catalogue["rmvpe"].expected["keys"]
    torch.save({k: torch.zeros(shape) for k, shape in keys.items()}, path)
    return path


def _ctx() -> JobContext:
    return JobContext("test", "assets", lambda event, data: None, min_interval=0.0)


def test_structure_only_import_is_recorded_and_listed(tmp_path: Path, catalogue: dict) -> None:
    src = _rmvpe_shaped(tmp_path / "my rmvpe ü.pt", catalogue)
    result = import_asset(src, catalogue, _ctx(), as_name="rmvpe")
    assert (result["verified_by"], result["checksum"]) == ("structure", "differs")
    assert result["verified_note"] == NOTE
    assert read_records()["rmvpe"]["checksum"] == "differs"
    rows = {r["name"]: r for r in list_assets(catalogue)}
    assert rows["rmvpe"]["checksum"] == "differs" and rows["rmvpe"]["verified_note"] == NOTE
    assert rows["hubert-base"]["verified_note"] is None  # not installed


def test_old_records_are_marked_from_their_checksum(tmp_path: Path, catalogue: dict) -> None:
    """Records written before the mark existed: the stored sha256 tells."""
    target = asset_path(catalogue["rmvpe"])
    target.parent.mkdir(parents=True)
    _rmvpe_shaped(target, catalogue)
    (target.parent.parent / "installed.json").write_text(json.dumps({"rmvpe": {
        "filename": "rmvpe/rmvpe.pt", "how": "import", "verified_by": "structure",
        "sha256": "0" * 64, "source": "x"}}), encoding="utf-8")
    rows = {r["name"]: r for r in list_assets(catalogue)}
    assert rows["rmvpe"]["verified_note"] == NOTE


def test_cli_list_shows_the_mark(tmp_path: Path, catalogue: dict) -> None:
    import_asset(_rmvpe_shaped(tmp_path / "r.pt", catalogue), catalogue, _ctx(), as_name="rmvpe")
    proc = subprocess.run([sys.executable, "-m", "backend", "assets", "list"], cwd=ROOT,
                          env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].split()[:5] == ["NAME", "KIND", "INSTALLED", "SIZE", "VERIFIED"]
    row = next(line for line in lines if line.startswith("rmvpe "))
    assert "structure only (checksum differs)" in row
    hubert = next(line for line in lines if line.startswith("hubert-base "))
    assert " no " in hubert and "checksum differs" not in hubert


def test_a_structure_verified_asset_is_loaded_like_any_file(tmp_path: Path,
                                                           catalogue: dict) -> None:
    """No trust comes with the install: a payload placed in the installed file is refused."""
    from backend.features.rmvpe import RmvpeWeightsError, load_rmvpe_net

    import_asset(_rmvpe_shaped(tmp_path / "r.pt", catalogue), catalogue, _ctx(), as_name="rmvpe")
    target = asset_path(catalogue["rmvpe"])
    marker = tmp_path / "pwned"
    keys = catalogue["rmvpe"].expected["keys"]
    torch.save({**{k: torch.zeros(s) for k, s in keys.items()}, "x": Payload(marker)}, target)
    with pytest.raises(RmvpeWeightsError, match="holds a Python object of class os.system"):
        load_rmvpe_net(target)
    assert not marker.exists()
