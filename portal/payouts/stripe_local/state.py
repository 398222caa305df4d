"""What the local Stripe server remembers: objects, the platform balance, idempotency keys, faults.

One lock guards it all, so requests are handled one at a time, as the tests need them to be.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import objects
from .webhooks import Outbox

DAY = 86400

# Faults a test or the demo arms for the next calls of one endpoint (docs/payouts.md).
# The first three answer before the endpoint runs (nothing happens, nothing is kept under the
# idempotency key); the declines are the endpoint's own answer (kept, as Stripe keeps it);
# drop_after runs the endpoint, keeps its answer, and closes the connection unanswered.
FAULTS = {
    "rate_limit",
    "api_error",
    "drop_before",
    "balance_insufficient",
    "card_declined",
    "drop_after",
}


@dataclass
class Fault:
    method: str
    path: str
    kind: str
    times: int = 1
    status: int = 500

    def matches(self, method: str, path: str) -> bool:
        return self.method == method and self.path == path


@dataclass
class Saved:
    """An answer kept under an idempotency key, with the request it answered."""

    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]
    at: float
    request_id: str


@dataclass
class AccountLinkRecord:
    account: str
    refresh_url: str
    return_url: str
    expires_at: int
    visited: bool = False
    completed: bool = False


@dataclass
class State:
    idempotency_ttl: float = DAY
    clock_offset: float = 0.0
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    payouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)
    account_links: dict[str, AccountLinkRecord] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    available: dict[str, int] = field(default_factory=lambda: {"usd": 0})
    saved: dict[tuple[str, str], Saved] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    # The order every transfer was made in, with the idempotency key that made it: the server's
    # own record for exactly-once checks, whatever the portal believes.
    transfer_log: list[dict[str, Any]] = field(default_factory=list)


class Store:
    def __init__(self, *, idempotency_ttl: float, balance: dict[str, int], outbox: Outbox):
        self.lock = threading.RLock()
        self.state = State(idempotency_ttl=idempotency_ttl, available=dict(balance))
        self.outbox = outbox

    # --- time -----------------------------------------------------------------------------

    def now(self) -> int:
        """Unix time as this server sees it (tests move it on to expire idempotency keys)."""
        return int(time.time() + self.state.clock_offset)

    def advance(self, seconds: float) -> int:
        with self.lock:
            self.state.clock_offset += seconds
            return self.now()

    # --- idempotency ----------------------------------------------------------------------

    def saved_answer(self, scope: str, key: str) -> Saved | None:
        saved = self.state.saved.get((scope, key))
        if saved is not None and self.now() - saved.at >= self.state.idempotency_ttl:
            del self.state.saved[(scope, key)]
            return None
        return saved

    def keep_answer(self, scope: str, key: str, saved: Saved) -> None:
        self.state.saved[(scope, key)] = saved

    # --- faults ---------------------------------------------------------------------------

    def arm(self, fault: Fault) -> None:
        with self.lock:
            self.state.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.state.faults:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times <= 0:
                    self.state.faults.remove(fault)
                return fault
        return None

    # --- events ---------------------------------------------------------------------------

    def emit(
        self,
        type_: str,
        obj: dict[str, Any],
        *,
        account: str | None = None,
        previous: dict[str, Any] | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        event = objects.event(
            type_=type_,
            obj=copy.deepcopy(obj),
            created=self.now(),
            account=account,
            previous_attributes=previous,
            request_id=request_id,
            idempotency_key=idempotency_key,
            pending_webhooks=0,
        )
        event["pending_webhooks"] = 1 if self.outbox.configured(event) else 0
        self.state.events.append(event)
        self.outbox.send(event)
        return event

    def account_changed(
        self, account_obj: dict[str, Any], before: dict[str, Any], **request
    ) -> None:
        """``account.updated`` with the fields that changed, and ``capability.updated`` for each
        capability whose status moved, both on the connected account (Connect endpoint)."""
        previous = {
            key: copy.deepcopy(value)
            for key, value in before.items()
            if account_obj.get(key) != value
        }
        if not previous:
            return
        for name, status in account_obj["capabilities"].items():
            if before["capabilities"].get(name) != status:
                capability = objects.capability(
                    account_obj, name, requested_at=account_obj["created"]
                )
                self.emit(
                    "capability.updated",
                    capability,
                    account=account_obj["id"],
                    previous={"status": before["capabilities"].get(name)},
                    **request,
                )
        self.emit(
            "account.updated", account_obj, account=account_obj["id"], previous=previous, **request
        )

    def reset(self) -> None:
        with self.lock:
            self.state = State(idempotency_ttl=self.state.idempotency_ttl)
