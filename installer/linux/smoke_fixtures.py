"""Fixtures of the bundle's smoke test (installer/linux/smoke.sh), built with the dev venv.

``python installer/linux/smoke_fixtures.py DIR`` writes, with the tests' own helpers:

- ``DIR/takes/``: a small generated dataset, file names with spaces and non-ASCII
  characters: espeak-ng speech when espeak-ng is installed, else harmonic tones with
  pauses (numpy), so the prepare job has something to slice either way;
- ``DIR/model.pth``: a random-weight tiny RVC v2 40k pitch model in the real format
  (tests/convert/rvc_files.py), ``DIR/model.index`` its faiss index;
- ``DIR/data ü/``: the data folder the bundle gets as ``TIMBRE_DATA_DIR``, with a tiny
  random HuBERT where the ``hubert-base`` asset lives and a tiny ``rmvpe.pt`` where the
  ``rmvpe`` asset lives (tests/features/tiny_models.py);
- ``DIR/tts.pth``: a tiny random English VITS model (tests/tts/tts_files.py).

It prints the data folder's path (one line) for the shell script.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(sys.argv[0]).resolve().parents[2] if __name__ == "__main__" else None
if ROOT is not None:
    sys.path.insert(0, str(ROOT))

DATA_DIR = "data ü"
TAKES = ("take 1 – ü.wav", "täke 2 声.wav")


def tones(path: Path, seed: int) -> Path:
    """Three seconds of a gliding harmonic tone in two phrases with a pause between."""
    import numpy as np
    import soundfile as sf

    sr = 22050
    rng = np.random.default_rng(seed)
    parts = []
    for f0 in (120.0 + 40 * seed, 150.0 + 40 * seed):
        t = np.arange(int(1.2 * sr)) / sr
        freq = f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))
        phase = 2 * np.pi * np.cumsum(freq) / sr
        voice = sum(np.sin(k * phase) / k for k in range(1, 8))
        envelope = np.minimum(1, np.minimum(t, t[::-1]) * 20)
        parts += [0.2 * voice * envelope, np.zeros(int(0.4 * sr))]
    signal = np.concatenate(parts) + 1e-4 * rng.standard_normal(sum(map(len, parts)))
    sf.write(path, signal.astype(np.float32), sr)
    return path


def takes(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("espeak-ng"):
        from tests.project.helpers import speech

        return [speech(folder, name, i, pitch=50 + 10 * i) for i, name in enumerate(TAKES)]
    return [tones(folder / name, i) for i, name in enumerate(TAKES)]


def data_folder(folder: Path) -> Path:
    from tests.features.tiny_models import save_tiny_fairseq_hubert, save_tiny_rmvpe

    hubert = folder / "assets" / "hubert" / "hubert_base.pt"
    save_tiny_fairseq_hubert(hubert, layers=2, hidden=768)  # v2 features (768 wide)
    save_tiny_rmvpe(folder / "assets" / "rmvpe" / "rmvpe.pt")
    return folder


def build(root: Path) -> Path:
    from tests.convert.rvc_files import write_index, write_rvc_model
    from tests.tts.tts_files import tiny_tts_file

    root.mkdir(parents=True, exist_ok=True)
    takes(root / "takes")
    write_rvc_model(root / "model.pth", "v2", "40k", True)
    index = write_index(root / "index", "model", "v2")
    shutil.move(index, root / "model.index")
    shutil.rmtree(root / "index")
    tiny_tts_file(root / "tts.pth")
    return data_folder(root / DATA_DIR)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python installer/linux/smoke_fixtures.py DIR")
    print(build(Path(sys.argv[1])))
