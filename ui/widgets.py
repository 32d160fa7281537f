"""Small building blocks shared by the screens: formatting, notice bar, PIN keypad, dialog base."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.domain.money import DEFAULT_LOCALE, format_money


def money(minor: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """``€6.46`` for totals a person reads at a glance (app.domain.money.format_money)."""
    return format_money(minor, currency, locale)


def friendly(message: str) -> str:
    """Service messages start lower-case (they read well inside logs); a screen wants a capital."""
    return message[:1].upper() + message[1:] if message else message


def error_text(error: Exception) -> str:
    from app.domain.errors import PosError

    if isinstance(error, PosError):
        return friendly(error.message)
    return "Something went wrong; the sale is unchanged. Details are in the till's log."


def button(text: str, slot: Callable[[], object] | None = None, name: str = "") -> QPushButton:
    widget = QPushButton(text)
    if name:
        widget.setObjectName(name)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    if slot is not None:
        widget.clicked.connect(lambda _checked=False: slot())
    return widget


def label(text: str = "", name: str = "", wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    if name:
        widget.setObjectName(name)
    widget.setWordWrap(wrap)
    return widget


def list_table(headers: list[str], row_height: int, rows: int = 0) -> QTableWidget:
    """A read-only list of rows a clerk picks one of (parked sales, history, search results)."""
    table = QTableWidget(rows, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(row_height)
    return table


def panel() -> QFrame:
    frame = QFrame()
    frame.setObjectName("Panel")
    return frame


class NoticeWidget(QLabel):
    """A non-blocking bar above the cart that hides itself after a few seconds. Two kinds, one
    method each: ``show_notice`` (beige, silent: "Sale parked") and ``show_error`` (red, with
    the system beep: an unknown barcode, a refused sale)."""

    shown = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Notice")
        self.setWordWrap(True)
        self.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.hide)

    @property
    def is_error(self) -> bool:
        return self.objectName() == "ErrorNotice"

    def show_notice(self, text: str, *, seconds: float = 4.0) -> None:
        """Something the clerk should know that went as asked."""
        self._show(text, "Notice", seconds)

    def show_error(self, text: str, *, seconds: float = 6.0) -> None:
        """Something that did not happen (nothing was added, the sale was not saved)."""
        self._show(text, "ErrorNotice", seconds)
        QApplication.beep()

    def _show(self, text: str, style: str, seconds: float) -> None:
        if self.objectName() != style:
            self.setObjectName(style)
            self.style().unpolish(self)
            self.style().polish(self)
        self.setText(text)
        self.show()
        self._timer.start(int(seconds * 1000))
        self.shown.emit(text)


class PinPadWidget(QWidget):
    """A touch keypad that types into a PIN field; the keyboard works as well."""

    submitted = Signal()

    def __init__(self, field: QLineEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._field = field
        grid = QGridLayout(self)
        grid.setSpacing(8)
        grid.setContentsMargins(0, 0, 0, 0)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "Clear", "0", "OK"]
        for index, key in enumerate(keys):
            widget = button(key, name="KeyButton")
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            if key == "OK":
                widget.setObjectName("Primary")
                widget.setStyleSheet("font-size: 22px; min-height: 56px;")
                widget.clicked.connect(self.submitted.emit)
            elif key == "Clear":
                widget.clicked.connect(field.clear)
            else:
                widget.clicked.connect(lambda _c=False, k=key: self._type(k))
            grid.addWidget(widget, index // 3, index % 3)

    def _type(self, digit: str) -> None:
        if len(self._field.text()) < 8:
            self._field.setText(self._field.text() + digit)
        self._field.setFocus()


def ask_passphrase(parent: QWidget, title: str, prompt: str) -> str | None:
    """A passphrase typed without echo; None when the person cancelled."""
    text, ok = QInputDialog.getText(parent, title, prompt, QLineEdit.EchoMode.Password)
    return text if ok else None


def pin_field() -> QLineEdit:
    field = QLineEdit()
    field.setObjectName("PinField")
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(8)
    field.setAlignment(Qt.AlignmentFlag.AlignCenter)
    field.setPlaceholderText("PIN")
    return field


# What counts as a field a dialog's focus starts in: what one types into, and a list to pick a
# row of with ↑/↓ (Enter then goes on to the default button).
INPUT_TYPES = (
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QPlainTextEdit,
    QTextEdit,
    QAbstractItemView,
)


def first_field(dialog: QDialog) -> QWidget | None:
    """The dialog's first visible, enabled, editable input in tab order: a line edit, combo
    box, spin box, text field or list."""
    widget = dialog.nextInFocusChain()
    while widget is not dialog:
        if (
            isinstance(widget, INPUT_TYPES)
            and widget.isVisibleTo(dialog)
            and widget.isEnabled()
            and widget.focusPolicy() != Qt.FocusPolicy.NoFocus
            and widget.window() is dialog
            and not getattr(widget, "isReadOnly", lambda: False)()
        ):
            return widget
        widget = widget.nextInFocusChain()
    return None


def focus_first_field(
    dialog: QDialog, field: QWidget | None, default: QWidget | None = None
) -> None:
    """Call from a dialog's showEvent: focus in ``field`` (its first field), so what the clerk
    types lands there ("10" in the discount dialog; a prefilled text is selected); without a
    field, on ``default`` (its OK button) so Enter confirms. Set in showEvent, before QDialog
    makes its own choice: with a push button first in the tab order (the reason dialog's quick
    reasons, the discount dialog's scope buttons) Qt gives the focus to the OK button and
    typed digits go nowhere."""
    target = field or default
    if target is not None and target.isVisibleTo(dialog) and target.isEnabled():
        target.setFocus(Qt.FocusReason.TabFocusReason)


WINDOW_FRAME = 40  # pixels a window manager's title bar and borders take, about


class PosDialog(QDialog):
    """Dialog base: a title, a message line for errors, and OK/Cancel buttons at the bottom."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(24, 20, 24, 20)
        self.body.setSpacing(12)
        heading = label(title, "Title")
        self.body.addWidget(heading)
        self.error = label("", "Error", wrap=True)
        self.error.hide()
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(10)

    def showEvent(self, event: QShowEvent) -> None:
        """Never taller or wider than the screen it opens on (a 1024×768 counter screen): the
        buttons at the bottom stay on the screen. The focus starts in the first field."""
        screen = self.screen().availableGeometry()
        width = min(self.width(), screen.width())
        height = min(self.height(), screen.height() - WINDOW_FRAME)
        if (width, height) != (self.width(), self.height()):
            self.setMinimumSize(min(self.minimumWidth(), width), min(self.minimumHeight(), height))
            self.resize(width, height)
        super().showEvent(event)
        if not event.spontaneous():
            focus_first_field(self, self.first_field(), getattr(self, "ok_button", None))

    def first_field(self) -> QWidget | None:
        """Where the focus starts (a subclass may name another field)."""
        return first_field(self)

    def finish_layout(
        self, ok_text: str = "OK", cancel_text: str = "Cancel (Esc)", *, stretch: bool = True
    ) -> None:
        self.body.addWidget(self.error)
        if stretch:
            self.body.addStretch(1)
        self.buttons.addStretch(1)
        self.cancel_button = button(cancel_text, self.reject)
        self.ok_button = button(ok_text, self._on_ok, "Primary")
        self.ok_button.setDefault(True)
        self.ok_button.setAutoDefault(True)
        self.cancel_button.setAutoDefault(False)
        self.buttons.addWidget(self.cancel_button)
        self.buttons.addWidget(self.ok_button)
        self.body.addLayout(self.buttons)

    def show_error(self, text: str) -> None:
        """What is wrong, in red under the fields, with the system beep."""
        self.error.setText(text)
        self.error.show()
        QApplication.beep()

    def _on_ok(self) -> None:
        self.accept()


class ChildDialogHost(PosDialog):
    """A dialog that opens dialogs of its own, one at a time (a quantity, a substitute, a
    pick list): ``child_dialog`` is the one open, ``dialog_opened`` tells tests and screenshots
    which, and when it closes the focus comes back where ``focus_after_child`` puts it."""

    dialog_opened = Signal(object)  # the child dialog

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.child_dialog: PosDialog | None = None

    def open_child(self, dialog: PosDialog) -> None:
        self.child_dialog = dialog
        dialog.finished.connect(lambda _r, d=dialog: self._on_child_closed(d))
        dialog.open()
        self.dialog_opened.emit(dialog)

    def _on_child_closed(self, dialog: PosDialog) -> None:
        if self.child_dialog is dialog:
            self.child_dialog = None
            QTimer.singleShot(0, self._refocus)

    def _refocus(self) -> None:
        if self.isVisible() and not self.isActiveWindow():
            self.activateWindow()  # a closed child leaves no active window on some platforms
        self.focus_after_child()

    def focus_after_child(self) -> None:
        """Where the focus goes when a child dialog closes (the dialog's main field)."""
