"""Every page fits a laptop screen: opened offscreen at 1024x700, 1280x800 and 1920x1080 with
the docks shown and a 300-character message in every status label, no visible control is
smaller than its minimum size, no plot is under 60 px tall, and the window does not grow.

The backend is fake_backend.py replaying one session assembled here from recorded ones:
the hello and the train.suggest / train.runs answers of train_output_real.jsonl, the
project.open answer and the health report of import_prepare.jsonl, the assets.list answer
of assets_manage.jsonl; the run's metrics.jsonl is written from the job.metrics events of
train_real.jsonl and project.slices answers one slice per source of the project.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QScrollArea,
    QWidget,
)

from desktop.ui.elided_label import QtElidedLabel
from desktop.ui.main_window import MainWindow
from tests.desktop.conftest import SESSIONS, fake_command

PAGES = ("project", "dataset", "label", "extract", "train", "convert", "live", "speak",
         "assets")
SIZES = ((1024, 700), (1280, 800), (1920, 1080))
MIN_PLOT_HEIGHT = 60
PROJECT = "My voice"
LONG = ("Could not read /home/someone/Recordings/a folder with a rather long name/"
        "take 12 (final, really final).wav: the file ends in the middle of a frame, so "
        "the last part is missing; export it again from your editor, or remove it from "
        "the project and add the other takes again. ")
LONG = (LONG * 2)[:300]


def _messages(name: str) -> list[dict[str, Any]]:
    text = (SESSIONS / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _answer(messages: list[dict[str, Any]], cmd: str) -> dict[str, Any]:
    """The reply that follows the first ``await`` of ``cmd`` in a recorded session."""
    at = next(i for i, m in enumerate(messages) if m.get("fake") == "await"
              and m.get("cmd") == cmd)
    return next(m for m in messages[at + 1:] if m.get("type") in ("result", "error"))


def _slices(open_result: dict[str, Any]) -> list[dict[str, Any]]:
    root = open_result["path"]
    return [{"name": f"{s['id']}_001_0000.wav", "path": f"{root}/prepared/0_gt_wavs/{s['id']}"
             "_001_0000.wav", "start": 0.0, "end": s["duration"], "duration": s["duration"],
             "problems": [], "source": s["path"], "source_id": s["id"]}
            for s in open_result["sources"]]


def layout_session(folder: Path) -> Path:
    prepare, train = _messages("import_prepare.jsonl"), _messages("train_output_real.jsonl")
    assets, live = _messages("assets_manage.jsonl"), _messages("live_run.jsonl")
    models, speak = _messages("convert_models.jsonl"), _messages("speak_run.jsonl")
    metrics = [{k: v for k, v in m["data"].items() if k != "job_id"}
               for m in _messages("train_real.jsonl") if m.get("event") == "job.metrics"]
    opened = [m for m in prepare if m.get("type") == "result"
              and isinstance(m["result"].get("report"), str)][-1]
    report = next(m for m in prepare if m.get("fake") == "write"
                  and m["path"].endswith("health.json"))
    replies = [("project.open", opened["result"]),
               ("project.slices", {"slices": _slices(opened["result"])}),
               ("train.suggest", _answer(train, "train.suggest")["result"]),
               ("train.runs", _answer(train, "train.runs")["result"]),
               ("assets.list", _answer(assets, "assets.list")["result"]),
               ("assets.list", _answer(assets, "assets.list")["result"]),
               ("models.list", _answer(live, "models.list")["result"]),
               ("live.devices", _answer(live, "live.devices")["result"]),
               ("models.list", _answer(models, "models.list")["result"]),  # the Convert page's
               ("tts.models", _answer(speak, "tts.models")["result"]),  # the Speak page's
               ("models.list", _answer(speak, "models.list")["result"])]
    out: list[dict[str, Any]] = [
        {"fake": "note", "text": "assembled by tests/desktop/test_layout.py"},
        train[1], train[2], report,
        {"fake": "write", "path": f"$PROJECT/{PROJECT}/train/main/metrics.jsonl",
         "text": "".join(json.dumps(m) + "\n" for m in metrics)}]
    for n, (cmd, result) in enumerate(replies):
        out += [{"fake": "await", "cmd": cmd, "as": str(n)},
                {"type": "result", "id": str(n), "result": result}]
    text = "\n".join(json.dumps(m, ensure_ascii=False) for m in out)
    text = text.replace("$PROJECT/Voice ü", f"$PROJECT/{PROJECT}")
    path = folder / "layout.jsonl"
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.fixture
def window(qtbot, make_client, qsettings, tmp_path) -> MainWindow:
    client, _sig = make_client(fake_command(str(layout_session(tmp_path)), tmp_path))
    win = MainWindow(client, qsettings)
    qtbot.addWidget(win)
    client.start()
    win.resize(*SIZES[0])
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: client.state == "ready", timeout=5000)
    win.controller.open(str(tmp_path / PROJECT))
    page = win.dataset_page
    qtbot.waitUntil(lambda: page.health_report.report is not None
                    and page.slices_table.rowCount() == 2, timeout=5000)
    train = win.train_page
    qtbot.waitUntil(lambda: train.suggestion is not None and train.history.last_step > 0,
                    timeout=5000)
    for key in ("extract", "assets"):  # each asks assets.list when first shown
        win.show_page(key)
    qtbot.waitUntil(lambda: win.assets_page.model.loaded,  # answered after Extract's
                    timeout=5000)
    win.show_page("live")  # asks models.list and live.devices (long device names)
    qtbot.waitUntil(lambda: win.live_page.devices_loaded and win.live_page.models_loaded,
                    timeout=5000)
    win.jobs_dock.show()
    win.log_dock.show()
    win.log_dock.setFloating(False)
    return win


def status_labels(root: QWidget) -> list[QLabel]:
    """Labels whose text the program sets: every elided label and every word-wrapped one."""
    return [w for w in root.findChildren(QLabel)
            if isinstance(w, QtElidedLabel) or w.wordWrap()]


def _name(w: QWidget) -> str:
    parts = []
    while w is not None and len(parts) < 4:
        parts.append(w.objectName() or type(w).__name__)
        w = w.parentWidget()
    return " < ".join(parts)


def _laid_out_by_parent(w: QWidget, top: QWidget) -> bool:
    """A part of a composite control (the line edit of a spin box) or a cell widget of an
    item view: sized by that control, not by a layout."""
    p = w.parentWidget()
    while p is not None and p is not top:
        if isinstance(p, QAbstractSpinBox | QComboBox) or (
                isinstance(p, QAbstractScrollArea)
                and not isinstance(p, QScrollArea | pg.GraphicsView)):
            return True
        p = p.parentWidget()
    return False


def layout_problems(win: MainWindow) -> list[str]:
    problems = []
    for w in win.findChildren(QWidget):
        if not w.isVisibleTo(win) or w.isWindow() or _laid_out_by_parent(w, win):
            continue
        hint = w.minimumSizeHint()
        if hint.isValid() and (w.width() < hint.width() or w.height() < hint.height()):
            problems.append(f"{_name(w)}: {w.width()}x{w.height()} < minimum "
                            f"{hint.width()}x{hint.height()}")
        if isinstance(w, QLabel) and w.hasHeightForWidth() and \
                w.height() < w.heightForWidth(w.width()):
            problems.append(f"{_name(w)}: {w.height()} px tall, its text needs "
                            f"{w.heightForWidth(w.width())} at {w.width()} px")
        if isinstance(w, QScrollArea) and w.widget() is not None and \
                w.viewport().width() < w.widget().minimumSizeHint().width():
            problems.append(f"{_name(w)}: {w.viewport().width()} px wide, its content needs "
                            f"{w.widget().minimumSizeHint().width()} (scrolled out of view)")
        if isinstance(w, pg.GraphicsView):
            problems += _plot_problems(w)
    needed = win.sidebar.sizeHintForColumn(0) + 2 * win.sidebar.frameWidth()
    if win.sidebar.viewport().width() + 2 * win.sidebar.frameWidth() < needed:
        problems.append(f"sidebar: {win.sidebar.width()} px wide, its titles need {needed}")
    return problems


def _plot_problems(view: pg.GraphicsView) -> list[str]:
    if view.height() < MIN_PLOT_HEIGHT:
        return [f"{_name(view)}: plot {view.height()} px tall"]
    items = [i for i in view.scene().items() if isinstance(i, pg.PlotItem)]
    return [f"{_name(view)}: plot '{i.titleLabel.text}' {i.sceneBoundingRect().height():.0f}"
            " px tall" for i in items if i.sceneBoundingRect().height() < MIN_PLOT_HEIGHT]


def fill_convert_page(qtbot, page) -> None:
    """The models listed, a queue and two results (one failed) with long names."""
    qtbot.waitUntil(lambda: page.library.table.rowCount() == 2, timeout=5000)
    long_name = "/recordings/" + "a very long recording name " * 4 + ".wav"
    page.session.inputs = [long_name, "/recordings/take 2.wav"]
    page.inputs.show_inputs()
    page.session.on_file({"input": long_name, "output": long_name[:-4] + "_My voice ü.wav",
                          "seconds": 61.5, "error": None})
    page.session.on_file({"input": "/recordings/take 2.wav", "output": None, "seconds": 0,
                          "error": LONG})
    page.results.refresh()


def fill_speak_page(qtbot, page) -> None:
    """The models listed (one more with a long name and many speakers) and a long text."""
    from desktop.components.speak_settings import TtsModel

    qtbot.waitUntil(lambda: page.form.models_loaded and page.form.voices_loaded, timeout=5000)
    long = TtsModel("long", "A text-to-speech model with a rather long name " * 3,
                    "/models/" + "a folder " * 10 + "/G_100000.pth", "imported", "en",
                    tuple(f"speaker with a long name {n}" for n in range(12)), 22050, LONG)
    page.form.set_models([*page.form.models, long])
    page.form.select_model("long")
    page.text.setPlainText(LONG * 5)


def hover_loss_plot(page) -> None:
    """Move the mouse over the middle of the loss graph (the read-out gets every term)."""
    from PySide6.QtTest import QTest

    view = page.plot.loss.widget
    QTest.mouseMove(view.viewport(), view.viewport().rect().center())
    QApplication.processEvents()


def settled_problems(qtbot, win: MainWindow) -> list[str]:
    """The layout problems once the layouts have settled (they take a few event passes)."""
    found: list[str] = []

    def settled() -> bool:
        found[:] = layout_problems(win)
        return not found

    with contextlib.suppress(qtbot.TimeoutError):
        qtbot.waitUntil(settled, timeout=1000)
    return found


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_page_fits_with_long_messages(qtbot, window, size) -> None:
    win = window
    win.resize(*size)
    qtbot.waitUntil(lambda: (win.width(), win.height()) == size, timeout=2000)
    assert win.jobs_dock.isVisible() and not win.log_dock.isHidden()
    labels = status_labels(win)
    assert len(labels) > 20
    found: list[str] = []
    for key in PAGES:
        win.show_page(key)
        if key == "train":
            hover_loss_plot(win.train_page)
            assert win.train_page.plot.readout.text().startswith("step "), "no hover read-out"
        if key == "convert":
            fill_convert_page(qtbot, win.convert_page)
        if key == "speak":
            fill_speak_page(qtbot, win.speak_page)
        for label in labels:
            label.setText(LONG)
        for dock in (win.log_dock, win.jobs_dock):
            dock.raise_()
            found += [f"{key}: {p}" for p in settled_problems(qtbot, win)]
            assert (win.width(), win.height()) == size, f"{key}: the window grew"
    assert not found, "\n".join(found)


def test_the_window_can_be_as_small_as_a_laptop_screen(window) -> None:
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700, hint


def _drag(qtbot, widget: QWidget, start: QPoint, end: QPoint) -> None:
    """Press, move in ten steps and release the left button, as a user drags."""
    from PySide6.QtTest import QTest

    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for n in range(1, 11):
        QTest.mouseMove(widget, start + (end - start) * (n / 10))
        qtbot.wait(5)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_the_dock_and_the_splitters_resize_and_are_remembered(qtbot, window, make_client,
                                                              qsettings) -> None:
    win = window
    win.resize(1200, 800)  # the default size
    win.show_page("dataset")
    qtbot.wait(50)
    dock, central = win.jobs_dock, win.centralWidget()
    x = central.width() // 2
    gap = (central.geometry().bottom() + dock.geometry().top()) // 2  # the dock's separator
    before = dock.height()
    _drag(qtbot, win, QPoint(x, gap), QPoint(x, gap - 60))
    qtbot.waitUntil(lambda: dock.height() >= before + 40, timeout=2000)
    taller = dock.height()
    splitter = win.dataset_page.splitter
    handle = splitter.handle(1)
    sizes = splitter.sizes()
    _drag(qtbot, handle, QPoint(handle.width() // 2, 2), QPoint(handle.width() // 2, -38))
    qtbot.waitUntil(lambda: splitter.sizes()[0] <= sizes[0] - 30, timeout=2000)
    moved = splitter.sizes()
    win.train_page.splitter.setSizes([500, 500])
    train = win.train_page.splitter.sizes()
    win.close()

    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    again = MainWindow(client, qsettings)
    qtbot.addWidget(again)
    again.resize(win.size())  # restoreGeometry fitted it to the offscreen screen (800x800)
    again.show()
    again.show_page("dataset")
    qtbot.waitExposed(again)
    assert again.jobs_dock.height() == taller
    assert again.dataset_page.splitter.sizes() == moved
    assert again.train_page.splitter.sizes() == train


def _wheel(widget: QWidget, steps: int) -> None:
    """A real wheel event over the middle of ``widget`` (negative steps: towards the user)."""
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_train_form_instead_of_changing_a_field(qtbot, window) -> None:
    win = window
    win.show_page("train")
    form = win.train_page.form
    column = form.parentWidget()
    while not isinstance(column, QScrollArea):
        column = column.parentWidget()
    bar = column.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=2000)  # 1024x700: the column scrolls
    combo, spin = form.model_size, form.epochs
    combo.setCurrentIndex(0)  # the run's own size may be the last item: the wheel can step
    size, epochs = combo.currentData(), spin.value()
    for field in (combo, spin):
        start = bar.value()
        _wheel(field, -1)
        assert bar.value() > start, f"{type(field).__name__}: the form did not scroll"
    assert (combo.currentData(), spin.value()) == (size, epochs)
    win.activateWindow()
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    _wheel(combo, -1)  # a field the user clicked into steps as usual
    assert combo.currentData() != size


def test_layout_states_round_trip_through_the_settings_store(tmp_path) -> None:
    from desktop.components.settings import AppSettings, JsonSettingsStore

    path = tmp_path / "settings ü.json"
    AppSettings(JsonSettingsStore(path)).set_layout_state("splitter.x", b"\x00\xffQt")
    settings = AppSettings(JsonSettingsStore(path))
    assert settings.layout_state("splitter.x") == b"\x00\xffQt"
    assert settings.layout_state("window.state") is None
    settings.store.set("layout.window.state", "not base64!")
    assert settings.layout_state("window.state") is None  # a damaged value: the default
