"""Who a connected account, a Stripe claim and a payout belong to: a vendor or a driver.

The onboarding, the account states and the Connect webhooks serve both through ``Holder``: the
column that names the holder (``vendor_id`` or ``driver_id``) and its id, so each rule is written
once for both.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

VENDOR = "vendor_id"
DRIVER = "driver_id"


@dataclass(frozen=True)
class Holder:
    column: str  # VENDOR or DRIVER
    id: uuid.UUID

    @classmethod
    def of(cls, owner: Any) -> Holder:
        """From a Vendor, a Driver, a Holder, or a bare vendor id (the vendors' callers)."""
        from ..deliveries.models import Driver
        from ..vendors.models import Vendor

        if isinstance(owner, Holder):
            return owner
        if isinstance(owner, Vendor):
            return cls(VENDOR, owner.id)
        if isinstance(owner, Driver):
            return cls(DRIVER, owner.id)
        if isinstance(owner, uuid.UUID):
            return cls(VENDOR, owner)
        raise TypeError(f"not an account holder: {owner!r}")

    @property
    def is_driver(self) -> bool:
        return self.column == DRIVER

    def of_model(self, model) -> Any:
        """The model's column naming this kind of holder."""
        return getattr(model, self.column)

    def where(self, model) -> Any:
        return self.of_model(model) == self.id

    def values(self) -> dict[str, uuid.UUID]:
        return {self.column: self.id}

    @property
    def metadata(self) -> dict[str, str]:
        """The account's metadata at Stripe, naming the holder (``vendor_id`` or ``driver_id``)."""
        return {self.column: str(self.id)}
