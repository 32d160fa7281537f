"""The push's part for issue 13's events: ``customer.saved``, ``phone_order.placed``,
``phone_order.transitioned``, ``phone_order.picked``, applied in the push's transaction.

Within a batch, customers are saved first (a new customer's ``customer.saved`` is queued
before its first order), then orders are placed, firm bookings first and the provisional
ones in booking-time order (first come, first confirmed), then pickings and transitions
in the order they were sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from server.orders.service import OrderOutcome
from server.terminals.auth import Caller
from sync.protocol import (
    CustomerSavedEvent,
    PhoneOrderPickedEvent,
    PhoneOrderPlacedEvent,
    PhoneOrderTransitionedEvent,
)

from .customers import save_customer
from .phone_orders import place_phone_order, record_picking, transition_phone_order

DeliveryEvent = (
    CustomerSavedEvent | PhoneOrderPlacedEvent | PhoneOrderTransitionedEvent | PhoneOrderPickedEvent
)
DELIVERY_EVENT_TYPES = (
    CustomerSavedEvent,
    PhoneOrderPlacedEvent,
    PhoneOrderTransitionedEvent,
    PhoneOrderPickedEvent,
)


@dataclass(frozen=True, slots=True)
class DeliveryCommand:
    key: int  # the event's index in the push
    event: DeliveryEvent


def _order(command: DeliveryCommand) -> tuple[int, str, int]:
    event = command.event
    if isinstance(event, CustomerSavedEvent):
        return (0, "", command.key)
    if isinstance(event, PhoneOrderPlacedEvent):
        booking = event.payload.booking
        return (1 if booking.status == "firm" else 2, booking.booked_at.isoformat(), command.key)
    return (3, "", command.key)


def apply_delivery_events(
    session: Session, who: Caller, commands: Sequence[DeliveryCommand], now: datetime
) -> list[OrderOutcome]:
    """Apply the batch's new delivery events; one outcome per command."""
    outcomes = []
    terminal_id = who.terminal()
    for command in sorted(commands, key=_order):
        event = command.event
        if isinstance(event, CustomerSavedEvent):
            save_customer(session, who.store_id, event.payload)
            outcomes.append(OrderOutcome(command.key, "accepted"))
        elif isinstance(event, PhoneOrderPlacedEvent):
            outcomes.append(
                place_phone_order(
                    session,
                    who.store_id,
                    terminal_id,
                    command.key,
                    event.payload,
                    event.event_id,
                    now,
                )
            )
        elif isinstance(event, PhoneOrderTransitionedEvent):
            outcomes.append(
                transition_phone_order(
                    session, who.store_id, terminal_id, command.key, event.payload, now
                )
            )
        else:
            outcomes.append(record_picking(session, who.store_id, command.key, event.payload, now))
    return outcomes
