"""QtElidedLabel: a label for text the program writes (status, errors, read-outs, paths).

Its size hints do not depend on the text, so a long message never widens a pane or the
window: it shows as much as fits in at most ``lines`` lines (wrapped at word boundaries,
or anywhere inside a word too long for a line), ends with "…" where it is cut, and then
carries the whole text in its tooltip. Right-click offers "Copy" of the whole text.
``text()`` is always the whole text.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import (
    QContextMenuEvent,
    QFontMetrics,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QLabel, QMenu, QSizePolicy, QWidget

MIN_CHARS = 12  # the minimum width, in average characters
HINT_CHARS = 30  # the preferred width (layouts give more when there is room)


class QtElidedLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None, *, lines: int = 1,
                 elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        self.max_lines = max(1, lines)
        self.elide_mode = elide
        self._tip = ""  # a tooltip set by the caller, shown when the text fits
        self._shown: tuple[list[str], bool] = ([], False)
        self._shown_width = -1
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(self.max_lines > 1)
        self.setSizePolicy(policy)
        self.setText(text)

    # text ------------------------------------------------------------------------------
    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        super().setText(text)
        self._shown_width = -1
        self._update_tooltip()
        self.updateGeometry()
        self.update()

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (Qt override)
        self._tip = tip
        self._update_tooltip()

    def is_elided(self) -> bool:
        """Whether the shown text is cut (at the current width)."""
        return self._layout_at(self._text_width())[1]

    def shown_lines(self) -> list[str]:
        """The lines painted at the current width."""
        return list(self._layout_at(self._text_width())[0])

    def _update_tooltip(self) -> None:
        elided = bool(self.text()) and self.is_elided()
        super().setToolTip(self.text() if elided else self._tip)

    def _flat(self) -> str:
        text = self.text()
        return " ".join(text.split("\n")) if self.max_lines == 1 else text

    # geometry ----------------------------------------------------------------------------
    def _margins(self) -> QSize:
        m = self.contentsMargins()
        extra = 2 * self.margin()
        return QSize(m.left() + m.right() + extra, m.top() + m.bottom() + extra)

    def _line_height(self) -> int:
        return QFontMetrics(self.font()).lineSpacing()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        fm = QFontMetrics(self.font())
        return QSize(fm.averageCharWidth() * MIN_CHARS, fm.height()) + self._margins()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        fm = QFontMetrics(self.font())
        width = fm.averageCharWidth() * HINT_CHARS + self._margins().width()
        return QSize(width, self.heightForWidth(width) if self.max_lines > 1
                     else fm.height() + self._margins().height())

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return self.max_lines > 1

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        lines, _ = self._wrap(self._flat(), max(1, width - self._margins().width()))
        fm = QFontMetrics(self.font())
        return fm.height() + (max(1, len(lines)) - 1) * fm.lineSpacing() + \
            self._margins().height()

    def _text_width(self) -> int:
        return max(1, self.contentsRect().width() - 2 * self.margin())

    # layout of the text ---------------------------------------------------------------------
    def _layout_at(self, width: int) -> tuple[list[str], bool]:
        if width != self._shown_width:
            self._shown, self._shown_width = self._wrap(self._flat(), width), width
        return self._shown

    def _wrap(self, text: str, width: int) -> tuple[list[str], bool]:
        """The lines that fit ``width`` pixels, and whether the text had to be cut."""
        fm = QFontMetrics(self.font())
        if not text:
            return [], False
        if self.max_lines == 1:
            shown = fm.elidedText(text, self.elide_mode, width)
            return [shown], shown != text
        layout = QTextLayout(text.replace("\n", "\u2028"), self.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        lines: list[str] = []
        elided = False
        layout.beginLayout()
        while len(lines) < self.max_lines:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            start, end = line.textStart(), line.textStart() + line.textLength()
            if len(lines) == self.max_lines - 1 and text[end:].strip():
                rest = " ".join(text[start:].split())
                lines.append(fm.elidedText(rest, Qt.TextElideMode.ElideRight, width))
                elided = True
                break
            lines.append(text[start:end].rstrip("\n\u2028 "))
        layout.endLayout()
        return lines, elided

    # painting and menu ----------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._shown_width = -1
            self.updateGeometry()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._update_tooltip()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        rect = self.contentsRect().adjusted(self.margin(), self.margin(), -self.margin(),
                                            -self.margin())
        lines = self._layout_at(rect.width())[0]
        fm = QFontMetrics(self.font())
        align = self.alignment() & Qt.AlignmentFlag.AlignHorizontal_Mask
        used = fm.height() + (len(lines) - 1) * fm.lineSpacing()
        top = rect.top()
        if self.alignment() & Qt.AlignmentFlag.AlignVCenter:
            top += max(0, (rect.height() - used) // 2)
        elif self.alignment() & Qt.AlignmentFlag.AlignBottom:
            top += max(0, rect.height() - used)
        for n, text in enumerate(lines):
            line_rect = QRect(rect)
            line_rect.setTop(top + n * fm.lineSpacing())
            line_rect.setHeight(fm.height())
            self.style().drawItemText(painter, line_rect, align | Qt.AlignmentFlag.AlignTop,
                                      self.palette(), self.isEnabled(), text,
                                      self.foregroundRole())

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        if not self.text():
            return
        menu = QMenu(self)
        menu.addAction("Copy", lambda: QGuiApplication.clipboard().setText(self.text()))
        menu.exec(event.globalPos())
