"""Remap requests: a vendor asks, with a note, for a product to go to another master product; an
admin resolves the request (maps the product to the master they pick, by hand and verified) or
declines it with a note. The vendor reads the outcome on their requests list.

One open request per product: checked first for a clear message, and the partial unique index
``unique_open_remap_request_per_product`` decides a race. Services flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import db
from ..inputs import constraint_of
from ..pagination import KeysetPage, Paged, PageRequest, clamp_page, ends, keyset_rows
from ..vendors.models import Vendor
from . import mapping
from .models import MasterProduct, Product, RemapRequest, VendorProductMapping
from .review.queue import search_masters

NOTE_MIN = 10
NOTE_MAX = 1000
OPEN_INDEX = "unique_open_remap_request_per_product"
PER_PAGE = 20


class RemapError(ValueError):
    """A request or decision refused; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _checked_note(note: str | None, what: str) -> str:
    text = (note or "").strip()  # line breaks kept: the admin reads the note as written
    if not text:
        raise RemapError(f"Write {what}.", "note")
    if len(text) < NOTE_MIN:
        raise RemapError(f"Write a little more: at least {NOTE_MIN} characters.", "note")
    if len(text) > NOTE_MAX:
        raise RemapError(f"Keep it to {NOTE_MAX} characters (this is {len(text)}).", "note")
    return text


def _open_request(product_id: uuid.UUID) -> RemapRequest | None:
    return db.session.scalar(
        sa.select(RemapRequest).where(
            RemapRequest.product_id == product_id, RemapRequest.status == "open"
        )
    )


def _already_open(product: Product) -> RemapError:
    return RemapError(
        f"You already asked for “{product.title}” to be remapped; an admin answers that "
        "request first (see Remap requests).",
        "note",
    )


def request_remap(
    vendor: Vendor, product: Product, note: str | None, *, requested_by
) -> RemapRequest:
    """Open a remap request for one of the shop's own active products."""
    if product.vendor_id != vendor.id or product.status != "active":
        raise RemapError("There is no such product in your shop.")
    text = _checked_note(note, "what is wrong with the match, and which product it is")
    if _open_request(product.id) is not None:
        raise _already_open(product)
    request = RemapRequest(
        vendor_id=vendor.id,
        product_id=product.id,
        requested_by_id=requested_by.id if requested_by is not None else None,
        note=text,
        status="open",
    )
    try:
        with db.session.begin_nested():
            db.session.add(request)
            db.session.flush()
    except IntegrityError as error:
        if constraint_of(error) == OPEN_INDEX:  # a second request won the race
            raise _already_open(product) from None
        raise
    return request


# --- the vendor's list ------------------------------------------------------------------------


@dataclass(frozen=True)
class VendorRequestPage(KeysetPage):
    rows: list
    total_rows: int
    has_newer: bool
    has_older: bool
    first: object
    last: object


def vendor_requests(vendor_id: uuid.UUID, request: PageRequest) -> VendorRequestPage:
    """The shop's requests newest first (``idx_remap_requests_vendor``), with the products."""
    query = (
        sa.select(
            RemapRequest.id,
            RemapRequest.created_at,
            RemapRequest.note,
            RemapRequest.status,
            RemapRequest.resolution_note,
            RemapRequest.resolved_at,
            Product.title,
            MasterProduct.name.label("master_name"),
            MasterProduct.slug.label("master_slug"),
        )
        .join(Product, Product.id == RemapRequest.product_id)
        .outerjoin(VendorProductMapping, VendorProductMapping.vendor_product_id == Product.id)
        .outerjoin(MasterProduct, MasterProduct.id == VendorProductMapping.master_product_id)
        .where(RemapRequest.vendor_id == vendor_id)
    )
    rows, has_newer, has_older = keyset_rows(
        query, RemapRequest.created_at, RemapRequest.id, request, PER_PAGE
    )
    total = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RemapRequest)
        .where(RemapRequest.vendor_id == vendor_id)
    )
    first, last = ends(rows)
    return VendorRequestPage(rows, total, has_newer, has_older, first, last)


# --- the admin's list and decisions -----------------------------------------------------------


@dataclass(frozen=True)
class OpenRequestPage(Paged):
    rows: list
    page: int
    per_page: int
    total_rows: int


def _open_rows() -> sa.Select:
    return (
        sa.select(
            RemapRequest.id,
            RemapRequest.created_at,
            RemapRequest.note,
            Vendor.name.label("vendor_name"),
            Product.title,
            Product.sku,
            MasterProduct.id.label("master_id"),
            MasterProduct.name.label("master_name"),
            MasterProduct.slug.label("master_slug"),
        )
        .join(Vendor, Vendor.id == RemapRequest.vendor_id)
        .join(Product, Product.id == RemapRequest.product_id)
        .outerjoin(VendorProductMapping, VendorProductMapping.vendor_product_id == Product.id)
        .outerjoin(MasterProduct, MasterProduct.id == VendorProductMapping.master_product_id)
        .where(RemapRequest.status == "open")
    )


def open_requests(page: int = 1, per_page: int = PER_PAGE) -> OpenRequestPage:
    """Open requests, oldest first (``idx_remap_requests_status``), with shop, product, master."""
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(RemapRequest).where(RemapRequest.status == "open")
    )
    page = clamp_page(page, total, per_page)
    rows = db.session.execute(
        _open_rows()
        .order_by(RemapRequest.created_at, RemapRequest.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return OpenRequestPage(rows, page, per_page, total)


def open_request_row(request_id: uuid.UUID) -> sa.Row | None:
    """One open request as the admin's list shows it (None: no such request, or decided)."""
    return db.session.execute(_open_rows().where(RemapRequest.id == request_id)).first()


def master_choices(request_id: uuid.UUID | None, q: str) -> list[MasterProduct]:
    """The masters a request's resolve form offers for what the admin typed: the review queue's
    search, without the master the product maps to now."""
    row = open_request_row(request_id) if request_id else None
    return search_masters(q or "", exclude=row.master_id if row else None)


def _open_or_refuse(request_id: uuid.UUID) -> RemapRequest:
    request = db.session.scalar(
        sa.select(RemapRequest).where(RemapRequest.id == request_id).with_for_update()
    )
    if request is None:
        raise RemapError("There is no such remap request.")
    if request.status != "open":
        raise RemapError(f"This request was {request.status} already.")
    return request


def _close(request: RemapRequest, status: str, admin, note: str | None) -> None:
    request.status = status
    request.resolved_by_id = admin.id
    request.resolved_at = utcnow()
    request.resolution_note = note
    db.session.flush()


def resolve_remap(
    request_id: uuid.UUID, master_id: uuid.UUID | None, *, admin, note: str | None = None
) -> RemapRequest:
    """Map the request's product to ``master_id`` (by hand, verified) and close the request."""
    request = _open_or_refuse(request_id)
    master = db.session.get(MasterProduct, master_id) if master_id else None
    if master is None:
        raise RemapError("Pick the master product to map it to.", "master")
    current = mapping.mapping_of(request.product_id)
    if current is not None and current.master_product_id == master.id:
        raise RemapError(
            "The product maps to that master already: pick another, or decline the request.",
            "master",
        )
    text = " ".join((note or "").split())[:NOTE_MAX] or None
    mapping.map_product(request.product, master, method="manual", verified=True)
    _close(request, "resolved", admin, text or f"Mapped to “{master.name}”.")
    return request


def decline_remap(request_id: uuid.UUID, *, admin, note: str | None) -> RemapRequest:
    """Close the request without a change; the note tells the vendor why."""
    request = _open_or_refuse(request_id)
    _close(request, "declined", admin, _checked_note(note, "why the request is declined"))
    return request
