"""The layout check: every visible button and label has room for its whole text.

Qt never elides a QPushButton's or QLabel's text: what does not fit is cut at the edge
("lousehol", "ersonal Car"). So the check measures each text with the widget's own font
(QFontMetrics, QTextDocument for rich text) and compares it with the room the style leaves
for it (the push button's contents rectangle after padding and border, the label's
contentsRect less its margin), taking word wrap into account.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics, QTextDocument
from PySide6.QtGui import Qt as GuiQt  # mightBeRichText lives in QtGui
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QPushButton,
    QStyle,
    QStyleOptionButton,
    QStyleOptionToolButton,
    QToolButton,
    QWidget,
)

SLACK_PX = 1  # font metrics round to whole pixels


def _shown(text: str) -> str:
    """A button's text as painted: ``&&`` is a literal ampersand, a single ``&`` a mnemonic."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _button_room(widget: QAbstractButton) -> QRect:
    if isinstance(widget, QPushButton):
        option = QStyleOptionButton()
        widget.initStyleOption(option)
        room = widget.style().subElementRect(
            QStyle.SubElement.SE_PushButtonContents, option, widget
        )
        if not widget.icon().isNull():
            room.setWidth(room.width() - widget.iconSize().width() - 4)
        return room
    tool = QStyleOptionToolButton()
    assert isinstance(widget, QToolButton)
    widget.initStyleOption(tool)
    return (
        widget.style()
        .subControlRect(
            QStyle.ComplexControl.CC_ToolButton, tool, QStyle.SubControl.SC_ToolButton, widget
        )
        .adjusted(3, 3, -3, -3)
    )


def _too_big(need_w: float, need_h: float, room: QRect) -> bool:
    return need_w > room.width() + SLACK_PX or need_h > room.height() + SLACK_PX


def clipped_text(widget: QWidget) -> str | None:
    """What is wrong with ``widget``'s text, or None when all of it is painted."""
    if isinstance(widget, (QPushButton, QToolButton)):
        text = _shown(widget.text())
        if not text:
            return None
        room = _button_room(widget)
        need = QFontMetrics(widget.font()).size(0, text)
        if _too_big(need.width(), need.height(), room):
            return f"needs {need.width()}×{need.height()} px, has {room.width()}×{room.height()}"
        return None
    if isinstance(widget, QLabel):
        text = widget.text()
        if not text or (widget.pixmap() is not None and not widget.pixmap().isNull()):
            return None
        margin = widget.margin()
        room = widget.contentsRect().adjusted(margin, margin, -margin, -margin)
        rich = widget.textFormat() == Qt.TextFormat.RichText or (
            widget.textFormat() == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text)
        )
        if rich:
            document = QTextDocument()
            document.setDocumentMargin(0)
            document.setDefaultFont(widget.font())
            document.setHtml(text)
            if widget.wordWrap():
                document.setTextWidth(room.width())
                need_w, need_h = document.idealWidth(), document.size().height()
            else:
                need_w, need_h = document.size().width(), document.size().height()
        else:
            if widget.buddy() is not None:  # a caption's "&" is its mnemonic, not painted
                text = _shown(text)
            metrics = QFontMetrics(widget.font())
            if widget.wordWrap():
                widest = max((metrics.horizontalAdvance(w) for w in text.split()), default=0)
                bounds = metrics.boundingRect(
                    QRect(0, 0, max(room.width(), 1), 100_000), Qt.TextFlag.TextWordWrap, text
                )
                need_w, need_h = max(widest, 0), bounds.height()
            else:
                size = metrics.size(0, text)
                need_w, need_h = size.width(), size.height()
        if _too_big(need_w, need_h, room):
            return f"needs {need_w:.0f}×{need_h:.0f} px, has {room.width()}×{room.height()}"
        return None
    return None


def clipped_widgets(root: QWidget) -> list[str]:
    """Every visible button or label under ``root`` (itself included) whose text is cut."""
    problems = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible() or widget.width() <= 0:
            continue
        problem = clipped_text(widget)
        if problem is not None:
            name = widget.objectName() or type(widget).__name__
            text = widget.text().replace("\n", "⏎")  # type: ignore[attr-defined]
            problems.append(f"{name} “{text[:60]}”: {problem}")
    return problems
