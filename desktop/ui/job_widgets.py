"""Small pieces several pages share around jobs: a job's progress bar, the device choice
whose CUDA item follows the backend's hello, and the local paths of a drag and drop."""

from __future__ import annotations

from PySide6.QtGui import QDragEnterEvent, QDropEvent, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QProgressBar

NO_CUDA = "The backend found no CUDA GPU."


def show_fraction(bar: QProgressBar, fraction: float | None) -> None:
    """0..1 fills the bar; None (no total known) makes it an indeterminate one."""
    if fraction is None:
        bar.setRange(0, 0)
    else:
        bar.setRange(0, 1000)
        bar.setValue(int(fraction * 1000))


def offer_cuda(combo: QComboBox, available: bool) -> None:
    """Enable the combo's ``cuda`` item only when the backend reported a CUDA device; a
    current CUDA choice falls back to ``auto`` (or the first item)."""
    model, index = combo.model(), combo.findData("cuda")
    if isinstance(model, QStandardItemModel) and index >= 0:
        item = model.item(index)
        item.setEnabled(available)
        item.setToolTip("" if available else NO_CUDA)
    if not available and combo.currentData() == "cuda":
        combo.setCurrentIndex(max(combo.findData("auto"), 0))


def accept_local_drag(event: QDragEnterEvent) -> None:
    """Accept a drag that carries at least one local file or folder."""
    mime = event.mimeData()
    if mime.hasUrls() and any(u.isLocalFile() for u in mime.urls()):
        event.acceptProposedAction()
    else:
        event.ignore()


def dropped_paths(event: QDropEvent) -> list[str]:
    """The local paths of a drop (accepted when there are any, ignored otherwise)."""
    paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
    if paths:
        event.acceptProposedAction()
    else:
        event.ignore()
    return paths
