"""Records the real backend's asset commands into ``tests/desktop/sessions/`` for replay tests.

Run from the repo root: ``.venv/bin/python tests/desktop/record_asset_sessions.py``.
Uses ``Recorder`` from record_sessions.py. The data folder is a temporary folder (written
as ``$PROJECT`` in the session) holding a 40 MB unfinished download of ``rmvpe`` (a sparse
file) so the list shows a partial download. A tiny file with the structure of ``rmvpe.pt``
is imported for real (recognised by structure), a WAV file is imported as ``hubert-base``
(the real ``wrong_file`` error), and ``rmvpe`` is removed again.
"""

from __future__ import annotations

import os
import sys
import tempfile
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.desktop.record_sessions import OUT, Recorder  # noqa: E402

PARTIAL_BYTES = 40_000_000


def _tiny_rmvpe(path: Path) -> None:
    import torch

    torch.save({"unet.encoder.bn.weight": torch.zeros(1), "cnn.weight": torch.zeros(3, 16, 3, 3),
                "fc.0.gru.weight_ih_l0": torch.zeros(768, 384),
                "fc.1.weight": torch.zeros(360, 512)}, path)


def _wav(path: Path) -> None:
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(16000)
        fh.writeframes(b"\x00\x01" * 1600)


def assets_manage(folder: Path) -> None:
    data = folder / "user data ü"
    part = data / "assets" / "rmvpe" / "rmvpe.pt.part"
    part.parent.mkdir(parents=True)
    with open(part, "wb") as fh:
        fh.truncate(PARTIAL_BYTES)
    rmvpe_file = folder / "my rmvpe ü.pt"
    _tiny_rmvpe(rmvpe_file)
    wav = folder / "take 1.wav"
    _wav(wav)
    os.environ["TIMBRE_DATA_DIR"] = str(data)
    os.environ.pop("TIMBRE_ASSET_CATALOGUE", None)
    rec = Recorder(folder, wait_ready=True)
    rec.send("assets.list")
    rec.send("job.start", {"kind": "assets", "args": {"action": "import", "path": str(rmvpe_file),
                                                      "name": "rmvpe"}}, wait_job=True)
    rec.send("assets.list")
    rec.send("job.start", {"kind": "assets", "args": {"action": "import", "path": str(wav),
                                                      "name": "hubert-base"}}, wait_job=True)
    rec.send("assets.list")
    rec.send("assets.remove", {"name": "rmvpe"})
    rec.send("assets.list")
    rec.close()
    rec.write("assets_manage")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="timbre-rec-") as tmp:
        assets_manage(Path(tmp))
    print("recorded assets_manage")


if __name__ == "__main__":
    main()
