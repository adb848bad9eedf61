"""Regenerate docs/screenshot.png: a demo project, prepared, open on the Dataset page.

Run: .venv/bin/python scripts/screenshot.py [OUT.png]   (needs espeak-ng; works offscreen)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

LINES = ["Welcome to Timbre Studio. Drop a folder of recordings on this window.",
         "Every clip is cleaned, sliced and checked before training starts.",
         "The health report tells you how much usable audio you have."]


def make_project(tmp: Path) -> Path:
    takes = tmp / "My recordings"
    takes.mkdir()
    for i, text in enumerate(LINES):
        subprocess.run(["espeak-ng", "-v", "en+f3", "-p", "60", "-w",
                        str(takes / f"take {i + 1}.wav"), text], check=True)
    project = tmp / "Demo voice"
    subprocess.run([sys.executable, "-m", "backend", "prepare", str(takes), "--project",
                    str(project), "--name", "Demo voice", "--json"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return project


def main() -> int:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.backend_client import BackendClient
    from desktop.ui.main_window import MainWindow

    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png")
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp))
        app = QApplication([])
        client = BackendClient()
        window = MainWindow(client, QSettings(str(Path(tmp) / "s.ini"),
                                              QSettings.Format.IniFormat))
        window.resize(1280, 860)
        client.start()
        window.show()
        page = window.dataset_page

        def step(n: int = 0) -> None:
            if client.state != "ready" and n < 100:
                QTimer.singleShot(100, lambda: step(n + 1))
            elif window.controller.state is None:
                window.controller.open(str(project))
                QTimer.singleShot(300, lambda: step(n + 1))
            elif page.slices_table.rowCount() == 0 and n < 150:
                QTimer.singleShot(100, lambda: step(n + 1))
            elif window.waveform_editor.model is None and n < 200:
                if n % 20 == 0:
                    page.slices_table.cellDoubleClicked.emit(0, 0)
                QTimer.singleShot(100, lambda: step(n + 1))
            else:
                QTimer.singleShot(500, shoot)

        def shoot() -> None:
            window.grab().save(str(out), "PNG")
            app.quit()

        QTimer.singleShot(100, step)
        app.aboutToQuit.connect(client.stop)
        app.exec()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
