"""Memory stays flat with file length: a 20-minute file through process_source."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.dataset.conftest import tone

SR = 48000
MINUTES = 20

CHILD = r"""
import json, resource, sys
from pathlib import Path
from backend.dataset.pipeline import PrepareSettings, process_source

src, warm, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
settings = PrepareSettings(output_subtype="PCM_16")
process_source(warm, settings, 40000, out / "w_gt", out / "w_16k", "w")  # load everything
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
res = process_source(src, settings, 40000, out / "gt", out / "16k", "long")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth_kb": after - before, "clips": len(res.slices),
                  "longest": max(s.duration for s in res.slices),
                  "last_end": res.slices[-1].end, "duration": res.info.duration}))
"""


def _write_long(path: Path) -> None:
    """Every 30 s: 4 s of buzz, then silence; plus 2 minutes without any pause."""
    buzz = (tone(150, 4.0, SR, 0.3) + tone(1200, 4.0, SR, 0.05)).astype(np.float32)
    silence = np.zeros(26 * SR, np.float32)
    with sf.SoundFile(str(path), "w", SR, 1, "PCM_16") as fh:
        for i in range(MINUTES * 2):
            if 10 <= i < 14:
                fh.write(np.tile(tone(150, 1.0, SR, 0.3), 30))  # 4 x 30 s, no silence
            else:
                fh.write(buzz)
                fh.write(silence)


def test_twenty_minutes_use_far_less_memory_than_decoded_size(tmp_path, repo_root):
    src = tmp_path / "long.wav"
    _write_long(src)
    warm = tmp_path / "warm.wav"
    sf.write(str(warm), tone(150, 5.0, SR, 0.3), SR)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(src), str(warm), str(tmp_path)],
                          capture_output=True, text=True, cwd=repo_root, check=False)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    decoded_mb = MINUTES * 60 * SR * 4 / 2**20  # float32 mono at the native rate: 220 MB
    growth_mb = r["growth_kb"] / 1024
    assert r["duration"] == MINUTES * 60, r
    assert growth_mb < decoded_mb / 5, (growth_mb, decoded_mb)
    # force-cut bounds slices even in 2 minutes without a pause; chunking keeps clips short
    assert r["longest"] <= 4.0 + 1e-6
    assert r["last_end"] > MINUTES * 60 - 30
