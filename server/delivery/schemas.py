"""Request and response bodies of the delivery endpoints (server/delivery/blueprint.py),
beside the wire models of sync/protocol.py they are built from."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AwareDatetime, Field, StrictInt

from sync.protocol import (
    MAX_PULL_LIMIT,
    CustomerData,
    DeliverySlotData,
    FulfilmentStateName,
    PhoneOrderData,
    RequestModel,
    ResponseModel,
    ShortText,
    SlotAllotmentData,
)

Units = Annotated[StrictInt, Field(ge=1, le=100_000)]
Grams = Annotated[StrictInt, Field(ge=0, le=10**9)]


class SlotsQuery(RequestModel):
    from_: AwareDatetime | None = Field(
        default=None, alias="from", description="slots ending after this moment (default: now)"
    )
    to: AwareDatetime | None = Field(default=None, description="slots starting before this")


class SlotView(ResponseModel):
    slot: DeliverySlotData
    allotment: SlotAllotmentData | None = Field(
        default=None, description="the calling terminal's share of the slot, if it has one"
    )


class SlotList(ResponseModel):
    slots: list[SlotView]


class BookingRequest(RequestModel):
    booking_id: uuid.UUID = Field(description="the client's id: the same id again is a replay")
    units: Units = Field(description="in the slot's capacity unit")
    weight_g: Grams = 0


class BookingData(ResponseModel):
    booking_id: str
    slot_id: str
    units: int
    weight_g: int
    status: str = Field(description="firm | confirmed | moved | unplaced | provisional")
    source: str = Field(description="terminal (a push) | web (this endpoint)")
    booked_at: AwareDatetime
    released_at: AwareDatetime | None = None


class CustomersQuery(RequestModel):
    phone: Annotated[str, Field(max_length=32)] = Field(
        default="", description="the start of the phone number (digits; + and spaces ignored)"
    )
    q: Annotated[str, Field(max_length=100)] = Field(
        default="", description="part of the name or e-mail"
    )
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class CustomerList(ResponseModel):
    customers: list[CustomerData]


class PhoneOrdersQuery(RequestModel):
    state: FulfilmentStateName | None = None
    slot_id: uuid.UUID | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PULL_LIMIT)] = 50
    after: uuid.UUID | None = Field(
        default=None, description="next_after of the previous page (orders come by id)"
    )


class PhoneOrderList(ResponseModel):
    orders: list[PhoneOrderData]
    next_after: str | None = None


class TransitionRequest(RequestModel):
    transition_id: uuid.UUID
    from_state: FulfilmentStateName = Field(description="the state the till saw")
    to_state: FulfilmentStateName
    reason: ShortText = ""
