"""Card at the counter: the customer pays on their phone through the payment page.

The dialog asks the server for a payment (in the network pool), shows the payment page link
as a QR code (and can open it on this computer), then follows the payment until the server
says it succeeded or failed. Card data never passes through the till. Closing the dialog
does not forget the attempt: it stays on disk and is settled when its outcome is known.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout

from app.domain.card import CardPayment, CardStatus
from app.domain.cart import Cart
from app.services.card_payments import (
    cancel_card_payment,
    check_card_payment,
    email_payment_link,
    start_card_payment,
)
from ui.tasks import TaskControl, TaskRunner
from ui.widgets import PosDialog, button, error_text, label, money

POLL_MS = 1500


def qr_pixmap(text: str, size: int = 300) -> QPixmap:
    """A QR code drawn with QPainter from the qrcode package's module matrix (no PIL)."""
    import qrcode

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    cells = len(matrix)
    scale = max(1, size // cells)
    image = QImage(cells * scale, cells * scale, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setPen(QColor("black"))
    painter.setBrush(QColor("black"))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                painter.drawRect(x * scale, y * scale, scale - 1, scale - 1)
    painter.end()
    return QPixmap.fromImage(image)


class CardPaymentDialog(PosDialog):
    paid = Signal(object)  # CardPayment, succeeded

    def __init__(
        self,
        terminal: Any,
        gateway: Any,
        cart: Cart,
        amount: int,
        clerk: Any,
        runner: TaskRunner,
        parent=None,  # type: ignore[no-untyped-def]
    ) -> None:
        super().__init__("Card payment", parent)
        self._terminal = terminal
        self._gateway = gateway
        self._cart = cart
        self._amount = amount
        self._clerk = clerk
        self._runner = runner
        self.payment: CardPayment | None = None
        self._checking = False
        self._cancelling = False

        self.setMinimumSize(820, 480)
        row = QHBoxLayout()
        row.setSpacing(24)
        self.qr = QLabel()
        self.qr.setFixedSize(320, 320)
        self.qr.setStyleSheet("background: white; border: 1px solid #d3d8de;")
        row.addWidget(self.qr)
        info = QVBoxLayout()
        info.addWidget(label("Card payment", "TotalCaption"))
        info.addWidget(label(money(amount, terminal.store.currency), "BigAmount"))
        self.status = label("Asking the server for a payment page…", "Subtitle", wrap=True)
        info.addWidget(self.status)
        info.addWidget(
            label(
                "The customer scans the code and pays on their phone. Card details go to the "
                "payment provider only, never through this till.",
                "Muted",
                wrap=True,
            )
        )
        info.addStretch(1)
        self.open_button = button("Open on this computer", self._open_page)
        self.open_button.setEnabled(False)
        info.addWidget(self.open_button)
        mail_row = QHBoxLayout()
        self.email_field = QLineEdit()
        self.email_field.setPlaceholderText("customer@example.com (phone orders)")
        self.email_button = button("E-mail the link", self._email_link)
        self.email_button.setEnabled(False)
        mail_row.addWidget(self.email_field, 1)
        mail_row.addWidget(self.email_button)
        info.addLayout(mail_row)
        self.retry_button = button("Try again", self._start, "Primary")
        self.retry_button.hide()
        info.addWidget(self.retry_button)
        row.addLayout(info, 1)
        self.body.addLayout(row)
        self.finish_layout("Close", "Cancel the card payment (Esc)")
        self.ok_button.hide()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._check)
        self._start()

    # ------------------------------------------------------------------ flow

    def _start(self) -> None:
        self.retry_button.hide()
        self.status.setText("Asking the server for a payment page…")
        terminal, gateway, cart = self._terminal, self._gateway, self._cart
        amount, clerk = self._amount, self._clerk

        def work(_control: TaskControl) -> CardPayment:
            return start_card_payment(
                terminal.uow,
                gateway,
                cart,
                amount,
                clerk,
                terminal.store,
                terminal.clock,
                terminal.ids,
            )

        self._runner.run_network("card payment", work, self._show, self._on_error)

    def _check(self) -> None:
        if self.payment is None or self._checking:
            return
        self._checking = True
        terminal, gateway, payment_id = self._terminal, self._gateway, self.payment.payment_id
        self._runner.run_network(
            "card status",
            lambda _c: check_card_payment(terminal.uow, gateway, payment_id),
            self._show,
            self._on_error,
        )

    def _show(self, payment: CardPayment) -> None:
        self._checking = False
        self.payment = payment
        if payment.pay_url and self.qr.pixmap().isNull():  # drawn once per attempt
            self.qr.setPixmap(qr_pixmap(payment.pay_url))
        self.open_button.setEnabled(bool(payment.pay_url))
        self.email_button.setEnabled(bool(payment.pay_url) and payment.status.is_open)
        if payment.status is CardStatus.SUCCEEDED:
            self._timer.stop()
            self.status.setText("Paid. Thank you!")
            self.paid.emit(payment)
            self.accept()
            return
        if payment.status is CardStatus.FAILED:
            self._timer.stop()
            reason = payment.decline_reason or "the card was declined"
            self.status.setText(f"Not paid: {reason}. Try again, or take another tender.")
            self.qr.clear()
            self.retry_button.show()
            return
        if payment.status is CardStatus.REQUIRES_ACTION:
            self.status.setText("The customer must confirm the payment with their bank…")
        else:
            self.status.setText("Waiting for the customer to pay…")
        if not self._timer.isActive():
            self._timer.start()

    def _on_error(self, error: Exception) -> None:
        self._checking = False
        self.status.setText(
            f"{error_text(error)} — the payment is kept and checked again; nothing is charged "
            "twice."
        )
        if self.payment is not None and not self._timer.isActive():
            self._timer.start()

    def _email_link(self) -> None:
        if self.payment is None:
            return
        gateway, payment_id, email = self._gateway, self.payment.payment_id, self.email_field.text()
        self.email_button.setEnabled(False)
        self._runner.run_network(
            "e-mail payment link",
            lambda _c: email_payment_link(gateway, payment_id, email),
            self._on_emailed,
            self._on_email_failed,
        )

    def _on_emailed(self, address: str) -> None:
        self.email_button.setEnabled(True)
        self.status.setText(f"Payment link sent to {address}. Waiting for the customer to pay…")

    def _on_email_failed(self, error: Exception) -> None:
        self.email_button.setEnabled(True)
        self.show_error(error_text(error))

    def _open_page(self) -> None:
        if self.payment is not None and self.payment.pay_url:
            QDesktopServices.openUrl(QUrl(self.payment.pay_url))

    def reject(self) -> None:
        """Esc / Cancel: the server cancels the payment so the customer cannot pay it later
        (then the sale can be paid another way). If the customer paid first, that wins."""
        if self._cancelling:
            return
        payment = self.payment
        if payment is None or not payment.status.is_open:
            super().reject()
            return
        self._cancelling = True
        self._timer.stop()
        self.status.setText("Cancelling the card payment…")
        terminal, gateway = self._terminal, self._gateway
        self._runner.run_network(
            "cancel card payment",
            lambda _c: cancel_card_payment(terminal.uow, gateway, payment.payment_id),
            self._on_cancelled,
            self._on_cancel_failed,
        )

    def _on_cancelled(self, payment: CardPayment) -> None:
        self._cancelling = False
        if payment.status is CardStatus.SUCCEEDED:
            self._show(payment)  # paid just before the cancel: the sale uses it
            return
        super().reject()

    def _on_cancel_failed(self, error: Exception) -> None:
        self._cancelling = False
        self.status.setText(
            f"Could not cancel: {error_text(error)}. The customer may still pay; the sale "
            "cannot be paid another way until the payment is settled."
        )
        self._timer.start()

    def done(self, result: int) -> None:  # closing, by any button or Esc
        self._timer.stop()
        super().done(result)
