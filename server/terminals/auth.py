"""Terminal tokens and enrollment codes, the caller of a request, and the one store-scoped
object lookup."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from flask import g
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.errors import ApiError, Forbidden, NotFound, Unauthorized
from server.models import AuditEntry, EnrollmentCode, Store, Terminal

ENROLL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand
ENROLL_CODE_LENGTH = 10

M = TypeVar("M")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def normalise_enroll_code(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()


def new_enroll_code() -> str:
    raw = "".join(secrets.choice(ENROLL_ALPHABET) for _ in range(ENROLL_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


class CallerKind(StrEnum):
    TERMINAL = "terminal"  # an enrolled till, by its bearer token
    CUSTOMER = "customer"  # a customer of the store's web shop (to come)
    OPERATOR = "operator"  # a person at the server's command line


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, and for which store (plain data, safe to keep on ``g``).

    Every caller acts for exactly one store, and ``get_owned`` scopes every lookup by it.
    A terminal has its ``terminal_*`` fields; a web customer will have ``customer_id``.
    """

    kind: CallerKind
    store_id: uuid.UUID
    store_code: str
    store_name: str
    currency: str
    terminal_id: uuid.UUID | None = None
    terminal_code: str = ""
    terminal_name: str = ""
    customer_id: uuid.UUID | None = None

    @property
    def id(self) -> uuid.UUID:
        """The one id of this caller (its terminal or its customer): its rate limit's key."""
        found = self.terminal_id or self.customer_id
        if found is None:
            raise Forbidden(f"a caller of kind {self.kind} has no id of its own")
        return found

    def terminal(self) -> uuid.UUID:
        """The caller's terminal id; 403 for a caller that is not a terminal."""
        if self.kind is not CallerKind.TERMINAL or self.terminal_id is None:
            raise Forbidden("only an enrolled terminal may do this")
        return self.terminal_id


def authenticate(session: Session, authorization: str | None) -> Caller:
    if not authorization:
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    row = (
        session.connection()
        .execute(  # plain columns, Core: every request pays for this
            select(
                Terminal.revoked_at,
                Terminal.id,
                Terminal.code,
                Terminal.name,
                Store.id,
                Store.code,
                Store.name,
                Store.currency,
            )
            .join(Store, Store.id == Terminal.store_id)
            .where(Terminal.token_hash == hash_secret(token))
        )
        .first()
    )
    if row is None:
        raise Unauthorized("unknown token", code="invalid_token")
    if row[0] is not None:
        raise Unauthorized("this terminal has been revoked", code="revoked_token")
    terminal_id, terminal_code, terminal_name, store_id, store_code, store_name, currency = row[1:]
    return Caller(
        kind=CallerKind.TERMINAL,
        store_id=store_id,
        store_code=store_code,
        store_name=store_name,
        currency=currency,
        terminal_id=terminal_id,
        terminal_code=terminal_code,
        terminal_name=terminal_name,
    )


def caller() -> Caller:
    found: Caller = g.caller
    return found


def get_owned(session: Session, who: Caller, model: type[M], object_id: Any) -> M:
    """THE object lookup for a caller: the object if it belongs to the caller's store,
    else 404 — whether it is missing or another store's (no difference is revealed)."""
    name = getattr(model, "__name__", "object").lower()
    try:
        key = object_id if isinstance(object_id, uuid.UUID) else uuid.UUID(str(object_id))
    except ValueError:
        raise NotFound(f"no such {name}") from None
    keyed_by_store = [c.name for c in sa_inspect(model).primary_key] == ["store_id", "id"]
    # an id that names an object within its store only (orders, payments …, migration 0009)
    found = session.get(model, {"store_id": who.store_id, "id": key} if keyed_by_store else key)
    if found is None or getattr(found, "store_id", None) != who.store_id:
        raise NotFound(f"no such {name}")
    return found


def create_enroll_code(session: Session, store_id: uuid.UUID, ttl: timedelta) -> str:
    code = new_enroll_code()
    session.add(
        EnrollmentCode(
            store_id=store_id,
            code_hash=hash_secret(normalise_enroll_code(code)),
            expires_at=datetime.now(UTC) + ttl,
        )
    )
    session.add(AuditEntry(actor="cli", action="enroll_code.create", store_id=store_id, detail={}))
    return code


@dataclass(frozen=True, slots=True)
class Enrolled:
    terminal_id: uuid.UUID
    token: str
    store: Store


def enroll(session: Session, code: str, terminal_code: str, name: str) -> Enrolled:
    """Spend a one-time enrollment code for a new terminal and its bearer token."""
    now = datetime.now(UTC)
    spent = session.execute(
        update(EnrollmentCode)
        .where(
            EnrollmentCode.code_hash == hash_secret(normalise_enroll_code(code)),
            EnrollmentCode.used_at.is_(None),
            EnrollmentCode.expires_at > now,
        )
        .values(used_at=now)
        .returning(EnrollmentCode.id, EnrollmentCode.store_id)
    ).first()
    if spent is None:
        raise ApiError(
            "the enrollment code is unknown, expired or already used",
            code="invalid_enroll_code",
            field="code",
            status=403,
        )
    code_id, store_id = spent
    taken = session.scalar(
        select(Terminal.id).where(
            Terminal.store_id == store_id,
            Terminal.code == terminal_code,
            Terminal.revoked_at.is_(None),
        )
    )
    if taken is not None:  # two tills with one code would print the same receipt numbers
        raise ApiError(
            f"terminal code {terminal_code} is in use in this store; revoke that terminal "
            "first or pick another code",
            code="terminal_code_taken",
            field="terminal_code",
            status=409,
        )
    token = new_token()
    terminal = Terminal(
        id=uuid.uuid4(),
        store_id=store_id,
        code=terminal_code,
        name=name,
        token_hash=hash_secret(token),
    )
    session.add(terminal)
    session.flush()
    session.execute(
        update(EnrollmentCode).where(EnrollmentCode.id == code_id).values(terminal_id=terminal.id)
    )
    session.add(
        AuditEntry(
            actor=f"terminal:{terminal.id}",
            action="terminal.enroll",
            store_id=store_id,
            detail={"terminal_code": terminal_code},
        )
    )
    store = session.get_one(Store, store_id)
    return Enrolled(terminal.id, token, store)


def revoke_terminal(session: Session, terminal_id: uuid.UUID) -> bool:
    done = session.execute(
        update(Terminal)
        .where(Terminal.id == terminal_id, Terminal.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .returning(Terminal.store_id)
    ).first()
    if done is None:
        return False
    session.add(
        AuditEntry(
            actor="cli",
            action="terminal.revoke",
            store_id=done[0],
            detail={"terminal_id": str(terminal_id)},
        )
    )
    return True
