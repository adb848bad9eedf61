"""Fixtures of the bundle's smoke test (installer/linux/smoke.sh), built with the dev venv.

``python installer/linux/smoke_fixtures.py DIR`` fills DIR with the tests' own helpers:

- what ``TimbreStudio --self-test DIR`` needs (tests/desktop/self_test_folder.py):
  ``DIR/takes/`` (espeak-ng speech, a file name with a space and non-ASCII), a
  random-weight tiny RVC v2 40k model ``DIR/model.pth``, and beside DIR its data folder
  (``TIMBRE_DATA_DIR``) with a tiny random HuBERT where the ``hubert-base`` asset lives and
  a tiny ``rmvpe.pt`` where the ``rmvpe`` asset lives;
- for the frozen backend's other verbs: ``DIR/model.index`` (a real faiss index of random
  vectors, tests/convert/rvc_files.py), ``DIR/tts.pth``, a tiny random English VITS
  model (tests/tts/tts_files.py), and ``DIR/whisper tiny/``, a tiny random faster-whisper
  model in the CTranslate2 folder layout (tests/transcribe/tiny_whisper.py; built with
  the dev venv's transformers, which the bundle leaves out).

It prints the data folder's path (one line) for the shell script.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def build(folder: Path) -> Path:
    from tests.convert.rvc_files import write_index
    from tests.desktop.self_test_folder import make_self_test_folder
    from tests.transcribe.tiny_whisper import build_tiny_whisper
    from tests.tts.tts_files import tiny_tts_file

    folder.mkdir(parents=True, exist_ok=True)
    data = make_self_test_folder(folder)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.move(write_index(Path(tmp), "model", "v2"), folder / "model.index")
    tiny_tts_file(folder / "tts.pth")
    build_tiny_whisper(folder / "whisper tiny")
    return data


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python installer/linux/smoke_fixtures.py DIR")
    print(build(Path(sys.argv[1]).resolve()))
