"""Screenshots for the docs: a demo project, prepared, with a slice open in the waveform editor.

Run (needs espeak-ng; works offscreen):
  .venv/bin/python scripts/screenshot.py [OUT.png]
      the Dataset page at 1280x860 (default docs/screenshot.png)
  .venv/bin/python scripts/screenshot.py --pages [DIR] [--size 1280x800]
      one PNG per sidebar page, DIR/page-<key>.png (default DIR: docs/screenshots)

The backend is the real one; its model files folder is a temporary one (TIMBRE_DATA_DIR),
so the Models & assets page shows nothing of the user's own.
"""

from __future__ import annotations

import argparse
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
SPEAK_TEXT = "Dr. Smith paid $5.50 at 3:30 on 12 May. Can you hear me? ☃"
PAGE_SETTLE_MS = 600  # each page asks the backend something when first shown


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


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1280x800") from None
    return width, height


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", help="the PNG (or, with --pages, the folder)")
    parser.add_argument("--pages", action="store_true", help="one PNG per page")
    parser.add_argument("--size", type=_size, help="window size, e.g. 1280x800")
    ns = parser.parse_args(argv)
    if ns.pages:
        ns.out = Path(ns.out or ROOT / "docs" / "screenshots")
        ns.size = ns.size or (1280, 800)
    else:
        ns.out = Path(ns.out or ROOT / "docs" / "screenshot.png")
        ns.size = ns.size or (1280, 860)
    return ns


def shoot(ns: argparse.Namespace, tmp: Path) -> list[Path]:
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.backend_client import BackendClient
    from desktop.ui.main_window import MainWindow

    project = make_project(tmp)
    app = QApplication([])
    client = BackendClient()
    window = MainWindow(client, QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    window.resize(*ns.size)
    client.start()
    window.show()
    page, written = window.dataset_page, []
    keys = window.page_keys() if ns.pages else []

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
            QTimer.singleShot(500, grab_next)

    def grab_next() -> None:
        if not ns.pages:
            written.append(ns.out)
            window.grab().save(str(ns.out), "PNG")
            app.quit()
            return
        if written:  # the page shown last time has settled: grab it
            window.grab().save(str(written[-1]), "PNG")
        if len(written) == len(keys):
            app.quit()
            return
        key = keys[len(written)]
        if key == "convert":  # the demo takes, queued for conversion
            window.convert_page.add_paths([str(project.parent / "My recordings")])
        if key == "speak":  # a text to read (the demo has no text-to-speech model)
            window.speak_page.text.setPlainText(SPEAK_TEXT)
        window.show_page(key)
        written.append(ns.out / f"page-{key}.png")
        # the Speak page's reading preview is asked once the text stops changing
        QTimer.singleShot(PAGE_SETTLE_MS * (4 if key == "speak" else 1), grab_next)

    QTimer.singleShot(100, step)
    app.aboutToQuit.connect(client.stop)
    app.exec()
    return written


def main(argv: list[str] | None = None) -> int:
    ns = _parse(sys.argv[1:] if argv is None else argv)
    if ns.pages:
        ns.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("TIMBRE_DATA_DIR", str(Path(tmp) / "user data"))
        for path in shoot(ns, Path(tmp)):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
