"""The store and terminal this till belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.tax import DEFAULT_TAX_TABLE, TaxTable


@dataclass(frozen=True, slots=True)
class StoreProfile:
    store_name: str = "ShopSmart Demo Market"
    store_address: str = "12 Market Street, Springfield"
    store_code: str = "S01"
    terminal_code: str = "T01"
    currency: str = "EUR"
    # How amounts are written for this store's customers (Babel locale) and where it is: the
    # country (ISO 3166 alpha-2) is the default region of the phone numbers clerks type.
    locale: str = "en_IE"
    country: str = "IE"
    taxes: TaxTable = DEFAULT_TAX_TABLE
    # A line or order discount above this share of the amount needs a manager's PIN.
    discount_approval_bp: int = 2000  # 20 %
    # An open-price item (goods without a barcode, price typed) above this needs a manager's
    # PIN (app.domain.cart.open_price_needs_approval).
    open_price_approval_limit: int = 5000  # 50.00 in the store's currency
    # Cash paid out of the drawer above this needs a manager's approval (app.services.shifts).
    paid_out_approval_limit: int = 5000
    # True: a manager cannot approve what they asked for themselves (two people, always).
    approver_must_differ: bool = False
    # A phone order paid by card link authorises its estimated total plus this share, so a
    # heavier picked weight is still covered (app.domain.delivery.authorisation_amount).
    authorisation_headroom_bp: int = 1500  # 15 %
