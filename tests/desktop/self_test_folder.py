"""A folder for ``TimbreStudio --self-test``: recordings, a random-weight voice model, and a
data folder with tiny random-weight assets (what the frozen bundle's smoke test and
tests/desktop/test_self_test.py give the app). Run as a script to make one:
``python tests/desktop/self_test_folder.py DIR`` prints the data folder to use as
``TIMBRE_DATA_DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

TAKES = ("take 1 ü.wav", "take 2.wav")


def make_self_test_folder(folder: Path) -> Path:
    """Fill ``folder`` (takes/, model.pth) and return the data folder beside it."""
    from tests.convert.rvc_files import write_rvc_model
    from tests.features.tiny_models import save_tiny_fairseq_hubert, save_tiny_rmvpe
    from tests.project.helpers import speech

    for i, name in enumerate(TAKES):
        speech(folder / "takes", name, idx=i)
    write_rvc_model(folder / "model.pth", "v2", "40k", True)
    data = folder.parent / f"{folder.name} data ü"
    save_tiny_fairseq_hubert(data / "assets" / "hubert" / "hubert_base.pt", layers=2,
                             hidden=768)  # v2 features, where the hubert-base asset lives
    save_tiny_rmvpe(data / "assets" / "rmvpe" / "rmvpe.pt")
    return data


if __name__ == "__main__":
    target = Path(sys.argv[1]).resolve()
    target.mkdir(parents=True, exist_ok=True)
    print(make_self_test_folder(target))
