"""Make resources/preview/phrase.wav: the short phrase a voice model "preview" converts.

About 3 s of festival speech (the CMU SLT voice; espeak-ng when festival is missing),
16 kHz mono 16-bit, peak -1 dBFS. Run once; the result is committed (under 150 KB).

    python scripts/make_preview_phrase.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

TEXT = "Hello! This is how my voice sounds now."
OUT = Path(__file__).resolve().parents[1] / "resources" / "preview" / "phrase.wav"


def speak(path: Path) -> None:
    if shutil.which("text2wave"):
        subprocess.run(["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o",
                        str(path)], input=TEXT.encode(), check=True)
    elif shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-v", "en+f3", "-w", str(path), TEXT], check=True)
    else:
        sys.exit("needs festival (text2wave) or espeak-ng")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        speak(raw)
        audio, sr = sf.read(raw, dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if sr != 16000:
        mono = soxr.resample(mono, sr, 16000, quality="HQ")
    voiced = np.flatnonzero(np.abs(mono) > 0.01)
    mono = mono[max(0, voiced[0] - 1600): voiced[-1] + 3200]  # 0.1 s before, 0.2 s after
    mono = mono / np.abs(mono).max() * 10 ** (-1 / 20)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    sf.write(OUT, mono, 16000, subtype="PCM_16")
    print(f"{OUT}: {mono.shape[0] / 16000:.2f} s, {OUT.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
