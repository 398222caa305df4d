"""Shops and the users who run them."""

from __future__ import annotations

import re
import secrets
import unicodedata

import sqlalchemy as sa

from ..extensions import db
from ..tiers.services import start_shop_tier
from .models import Vendor, VendorMember

REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes get read aloud


def slugify(text: str, fallback: str = "shop") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or fallback


def unique_slug(name: str) -> str:
    base = slugify(name)[:200]
    slug, suffix = base, 2
    while db.session.scalar(sa.select(sa.exists().where(Vendor.slug == slug))):
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def new_referral_code() -> str:
    while True:
        code = "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(8))
        if not db.session.scalar(sa.select(sa.exists().where(Vendor.referral_code == code))):
            return code


def open_shop(
    owner, *, name: str, vendor_type: str, contact_phone: str | None = None, **details
) -> Vendor:
    """Create a shop owned by ``owner``, with its tier row at bronze."""
    vendor = Vendor(
        name=name.strip(),
        slug=unique_slug(name),
        vendor_type=vendor_type,
        referral_code=new_referral_code(),
        contact_email=owner.email,
        contact_phone=contact_phone,
        **details,
    )
    db.session.add(vendor)
    db.session.flush()
    db.session.add(VendorMember(vendor_id=vendor.id, user_id=owner.id, role="owner"))
    start_shop_tier(vendor)
    db.session.flush()
    return vendor


def vendor_for_user(user) -> Vendor | None:
    """The shop a vendor user works for (owner or staff)."""
    return db.session.scalar(
        sa.select(Vendor)
        .join(VendorMember, VendorMember.vendor_id == Vendor.id)
        .where(VendorMember.user_id == user.id)
    )
