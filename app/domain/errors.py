"""The shop's errors. Every failure the shop can name is a ``PosError``."""

from __future__ import annotations


class PosError(Exception):
    """Base of every error the shop raises on purpose.

    ``code`` is a stable machine-readable name; ``field`` names the input that was wrong,
    when there is one, so a screen or an API answer can point at it.
    """

    code = "pos_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(PosError):
    code = "invalid_input"


class InvalidBarcode(InvalidInput):
    code = "invalid_barcode"


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"


class InvalidPrice(InvalidInput):
    code = "invalid_price"


class InvalidDiscount(InvalidInput):
    code = "invalid_discount"


class CurrencyMismatch(PosError):
    code = "currency_mismatch"


class UnknownProduct(PosError):
    code = "unknown_product"


class InactiveProduct(PosError):
    code = "inactive_product"


class IllegalTransition(PosError):
    code = "illegal_transition"


class TenderShortfall(PosError):
    code = "tender_shortfall"


class EmptyCart(PosError):
    code = "empty_cart"


class CatalogImportError(PosError):
    """A catalog file that cannot be imported; ``problems`` lists every bad row and field."""

    code = "catalog_import_failed"

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class AuthenticationFailed(PosError):
    code = "authentication_failed"


class ClerkLocked(PosError):
    code = "clerk_locked"


class PermissionDenied(PosError):
    code = "permission_denied"


class NotFound(PosError):
    code = "not_found"


class GatewayUnavailable(PosError):
    """The server's payment API could not be reached (offline, timeout, 5xx): the outcome
    of what was asked is unknown, so ask again with the same id."""

    code = "gateway_unavailable"


class GatewayRefused(PosError):
    """The server's payment API refused the request for good (nothing was done)."""

    code = "gateway_refused"
