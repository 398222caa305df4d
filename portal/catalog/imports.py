"""Bulk CSV import and export of a vendor's products (one format both ways).

Columns: ``sku,title,description,gtin,brand,category,price,inventory,status,attributes``, with
attributes written ``key=value; key=value``. The header is required; ``sku``, ``title`` and
``price`` must be present, the other columns may be left out, unknown columns are refused.

An upload is checked whole before anything is written (:func:`check_csv`): every bad row comes back
with its line number and reason. Only a clean file is stored and queued; the job
(:func:`apply_rows`, called by ``jobs.run_product_import``) upserts it in batches by SKU.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..csv_safety import restore_text
from ..extensions import db
from ..inputs import UnsafeInput, fit_integer, fit_numeric
from ..media import store_private
from ..vendors.services import slugify
from .aggregates import refresh_for_products
from .gtin import InvalidGtin, normalize_gtin
from .models import PRODUCT_STATUSES, Brand, Product, ProductCategory, ProductImport
from .services import ensure_brands

COLUMNS = (
    "sku",
    "title",
    "description",
    "gtin",
    "brand",
    "category",
    "price",
    "inventory",
    "status",
    "attributes",
)
REQUIRED_COLUMNS = ("sku", "title", "price")
MAX_TEXT = 255
BATCH_SIZE = 1000


@dataclass(frozen=True)
class RowError:
    line: int  # 1 is the header; 0 means the file as a whole
    message: str


@dataclass
class ImportRow:
    line: int
    sku: str
    title: str
    price: Decimal
    description: str | None = None
    gtin: str | None = None
    brand: str | None = None
    category: str | None = None
    inventory: int = 0
    status: str = "active"
    attributes: dict[str, str] | None = None


@dataclass
class CheckResult:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


# --- single values, shared with the product form and the inline edit ----------------------------


class ValueRejected(ValueError):
    """A price, inventory or attribute text the vendor must correct; the message says how."""


def parse_price(text: str | None) -> Decimal:
    """A price as typed (``12``, ``12.5``, ``12.345``), rounded half-up to the cent."""
    raw = (text or "").strip()
    if not raw:
        raise ValueRejected("Enter a price.")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueRejected(f"{raw!r} is not a price.") from None
    if value.is_finite() and value < 0:
        raise ValueRejected("The price cannot be negative.")
    try:
        return fit_numeric(value, Product.price)
    except UnsafeInput as error:
        raise ValueRejected(
            f"The price is {error}." if value.is_finite() else f"{raw!r} is not a price."
        ) from None


def parse_inventory(text: str | None, *, empty_is_zero: bool = False) -> int:
    raw = (text or "").strip()
    if not raw:
        if empty_is_zero:
            return 0
        raise ValueRejected("Enter a quantity.")
    if not re.fullmatch(r"[+-]?\d+", raw):
        raise ValueRejected(f"Inventory must be a whole number, not {raw!r}.")
    # Python refuses to convert more than 4300 digits; anything that long is too large anyway.
    value = int(raw) if len(raw) <= 4000 else int(raw[0].replace("+", "") + "9" * 4000)
    if value < 0:
        raise ValueRejected("Inventory cannot be negative.")
    try:
        return fit_integer(value, Product.inventory)
    except UnsafeInput as error:
        raise ValueRejected(f"Inventory is {error}.") from None


def parse_csv_attributes(text: str | None) -> dict[str, str] | None:
    """``key=value; key=value`` into a dict (None when empty)."""
    pairs: dict[str, str] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueRejected(f"Attributes are written key=value; {part.strip()!r} is not.")
        pairs[key.strip()] = value.strip()
    return pairs or None


def format_csv_attributes(attributes: dict[str, Any] | None) -> str:
    return "; ".join(f"{key}={value}" for key, value in (attributes or {}).items())


# --- checking an upload -------------------------------------------------------------------------


def check_csv(data: bytes, *, max_rows: int | None = None) -> CheckResult:
    """Check a whole upload; never writes. Line numbers count physical lines, the header is 1."""
    max_rows = max_rows or current_app.config["PRODUCT_IMPORT_MAX_ROWS"]
    result = CheckResult()
    if not data.strip():
        result.errors.append(RowError(0, "The file is empty."))
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        result.errors.append(
            RowError(line, "The file is not UTF-8 text (save it as CSV UTF-8 and upload it again).")
        )
        return result

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        result.errors.append(RowError(1, "The file has no header row."))
        return result
    columns = tuple(name.strip().lower() for name in header)
    header_errors = _check_header(columns)
    if header_errors:
        result.errors.extend(header_errors)
        return result
    result.columns = columns

    seen_skus: dict[str, int] = {}
    previous_end = reader.line_num
    count = 0
    try:
        for record in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # blank lines are allowed
            count += 1
            if count > max_rows:
                continue  # counted for the message below, not checked
            sku = record[columns.index("sku")].strip() if len(record) == len(columns) else ""
            first = seen_skus.get(sku) if sku else None
            if first is not None:
                # Reported on its own: the first row's SKU wins, whatever else is wrong here.
                result.errors.append(
                    RowError(line, f"SKU {sku!r} is already on line {first} of this file.")
                )
                continue
            if sku:
                seen_skus[sku] = line
            row = _check_record(line, columns, record, result.errors)
            if row is None:
                continue
            result.rows.append(row)
    except csv.Error as error:
        result.errors.append(RowError(reader.line_num, f"The CSV cannot be read here: {error}."))
    if count > max_rows:
        result.errors.insert(
            0, RowError(0, f"The file has {count:,} rows; at most {max_rows:,} can be imported.")
        )
    if count == 0 and not result.errors:
        result.errors.append(RowError(0, "The file has a header but no products."))
    if result.errors:
        result.rows = []
    return result


def _check_header(columns: tuple[str, ...]) -> list[RowError]:
    errors = []
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        errors.append(
            RowError(
                1,
                f"Unknown column(s): {', '.join(repr(c) for c in unknown)}. "
                f"The columns are: {','.join(COLUMNS)}.",
            )
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        errors.append(RowError(1, f"The header lacks the column(s): {', '.join(missing)}."))
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        errors.append(RowError(1, f"Column(s) given twice: {', '.join(duplicated)}."))
    return errors


def _check_record(
    line: int, columns: tuple[str, ...], record: list[str], errors: list[RowError]
) -> ImportRow | None:
    if len(record) != len(columns):
        errors.append(RowError(line, f"Expected {len(columns)} fields, found {len(record)}."))
        return None
    # restore_text: a cell our export prefixed against spreadsheet formulas reads back as it was
    # (after the strip, so a leading tab or CR the quote protected is content and stays).
    values = {name: restore_text(cell.strip()) for name, cell in zip(columns, record, strict=True)}
    reasons: list[str] = []
    sku, title = values.get("sku", ""), values.get("title", "")
    if not sku:
        reasons.append("the SKU is missing")
    elif len(sku) > MAX_TEXT:
        reasons.append(f"the SKU is longer than {MAX_TEXT} characters")
    if not title:
        reasons.append("the title is missing")
    elif len(title) > MAX_TEXT:
        reasons.append(f"the title is longer than {MAX_TEXT} characters")
    price = inventory = gtin = attributes = None
    try:
        price = parse_price(values.get("price"))
    except ValueRejected as error:
        reasons.append(_lower_first(str(error)))
    try:
        inventory = parse_inventory(values.get("inventory"), empty_is_zero=True)
    except ValueRejected as error:
        reasons.append(_lower_first(str(error)))
    try:
        gtin = normalize_gtin(values.get("gtin"))
    except InvalidGtin as error:
        reasons.append(_lower_first(str(error)))
    status = (values.get("status") or "active").lower()
    if status not in PRODUCT_STATUSES:
        reasons.append(f"the status must be active or archived, not {values['status']!r}")
    for name in ("brand", "category"):
        if len(values.get(name) or "") > MAX_TEXT:
            reasons.append(f"the {name} is longer than {MAX_TEXT} characters")
    try:
        attributes = parse_csv_attributes(values.get("attributes"))
    except ValueRejected as error:
        reasons.append(_lower_first(str(error)))
    if reasons:
        message = "; ".join(reasons)
        errors.append(RowError(line, message[0].upper() + message[1:] + "."))
        return None
    return ImportRow(
        line=line,
        sku=sku,
        title=title,
        price=price,
        description=values.get("description") or None,
        gtin=gtin,
        brand=values.get("brand") or None,
        category=values.get("category") or None,
        inventory=inventory,
        status=status,
        attributes=attributes,
    )


def _lower_first(message: str) -> str:
    message = message.rstrip(".")
    return message[:1].lower() + message[1:]


# --- storing and queueing ---------------------------------------------------------------------


class ImportRejected(ValueError):
    """An upload with bad rows: nothing was stored; ``errors`` lists each with its line."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} problem(s) in the file")
        self.errors = errors


def submit_import(vendor, data: bytes, *, filename: str, requested_by=None) -> ProductImport:
    """Check an upload whole and, if it is clean, keep it and record it as queued.

    Raises :class:`ImportRejected` (nothing written) for a file with bad rows. Flushes only: the
    caller commits, then enqueues the job (``jobs.enqueue_product_import``).
    """
    checked = check_csv(data)
    if not checked.ok:
        raise ImportRejected(checked.errors)
    return create_import(
        vendor, data, filename=filename, rows=len(checked.rows), requested_by=requested_by
    )


def create_import(vendor, data: bytes, *, filename: str, rows: int, requested_by=None):
    """Keep a checked upload in the shop's private files and record it as queued. Flushes only."""
    import_id = uuid.uuid4()
    relative = store_private(vendor.id, "imports", f"{import_id}.csv", data)
    product_import = ProductImport(
        id=import_id,
        vendor_id=vendor.id,
        requested_by_id=requested_by.id if requested_by is not None else None,
        filename=(filename or "products.csv")[:255],
        file_path=relative,
        status="queued",
        total_rows=rows,
        job_id=f"product-import-{import_id}",
    )
    db.session.add(product_import)
    db.session.flush()
    return product_import


# --- applying rows (the job) ------------------------------------------------------------------


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    product_ids: list[uuid.UUID] = field(default_factory=list)


def recent_imports(vendor_id: uuid.UUID, limit: int = 5) -> list[ProductImport]:
    return list(
        db.session.scalars(
            sa.select(ProductImport)
            .where(ProductImport.vendor_id == vendor_id)
            .order_by(ProductImport.created_at.desc())
            .limit(limit)
        )
    )


def vendor_import(vendor_id: uuid.UUID, import_id: uuid.UUID) -> ProductImport | None:
    """One of the vendor's imports; None for another shop's id, so it stays unseen."""
    return db.session.scalar(
        sa.select(ProductImport).where(
            ProductImport.id == import_id, ProductImport.vendor_id == vendor_id
        )
    )


def _ensure_categories(names: set[str]) -> dict[str, uuid.UUID]:
    if not names:
        return {}
    slugs = {name: slugify(name) for name in names}
    db.session.execute(
        pg_insert(ProductCategory.__table__)
        .values([{"name": n, "slug": s} for n, s in slugs.items()])
        .on_conflict_do_nothing(index_elements=["slug"])
    )
    rows = db.session.execute(
        sa.select(ProductCategory.id, ProductCategory.slug).where(
            ProductCategory.slug.in_(set(slugs.values()))
        )
    ).all()
    by_slug = {row.slug: row.id for row in rows}
    return {name: by_slug[slug] for name, slug in slugs.items()}


_UPDATED_COLUMNS = (
    "title",
    "description",
    "gtin",
    "brand_id",
    "category_id",
    "price",
    "inventory",
    "status",
    "attributes",
)


def apply_rows(
    vendor_id: uuid.UUID, rows: Sequence[ImportRow], columns: Sequence[str]
) -> BatchResult:
    """Upsert one batch by (vendor, SKU) in one statement; flushes, never commits.

    Only the columns present in the file are written on update, and a row whose values are already
    those of the file is left alone (not counted, ``updated_at`` untouched): replaying an import
    changes nothing.
    """
    result = BatchResult()
    if not rows:
        return result
    brands = ensure_brands({r.brand for r in rows if r.brand}) if "brand" in columns else {}
    categories = (
        _ensure_categories({r.category for r in rows if r.category})
        if "category" in columns
        else {}
    )
    values = [
        {
            "vendor_id": vendor_id,
            "sku": r.sku,
            "title": r.title,
            "description": r.description,
            "gtin": r.gtin,
            "brand_id": brands.get(r.brand) if r.brand else None,
            "category_id": categories.get(r.category) if r.category else None,
            "price": r.price,
            "inventory": r.inventory,
            "status": r.status,
            "attributes": r.attributes,
        }
        for r in rows
    ]
    table = Product.__table__
    # Executed with the batch's parameter list: SQLAlchemy's insertmanyvalues turns it into
    # multi-row INSERTs of a cached statement (far cheaper than compiling one huge VALUES list).
    statement = pg_insert(table)
    updated = [
        c
        for c in _UPDATED_COLUMNS
        if c in columns or (c.endswith("_id") and c.removesuffix("_id") in columns)
    ]
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["vendor_id", "sku"],
        set_={**{c: excluded[c] for c in updated}, "updated_at": sa.func.now()},
        where=sa.tuple_(*(table.c[c] for c in updated)).is_distinct_from(
            sa.tuple_(*(excluded[c] for c in updated))
        ),
    ).returning(table.c.id, sa.literal_column("(xmax = 0)").label("inserted"))
    for product_id, inserted in db.session.execute(statement, values):
        result.product_ids.append(product_id)
        if inserted:
            result.created += 1
        else:
            result.updated += 1
    refresh_for_products(result.product_ids)
    return result


def batches(rows: Sequence[ImportRow], size: int = BATCH_SIZE) -> Iterator[Sequence[ImportRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# --- export -------------------------------------------------------------------------------------


def export_rows(vendor_id: uuid.UUID) -> Iterator[list]:
    """Every product of the vendor (archived too) in the import format (cells, for csv_safety)."""
    query = (
        sa.select(
            Product.sku,
            Product.title,
            Product.description,
            Product.gtin,
            Brand.name,
            ProductCategory.name,
            Product.price,
            Product.inventory,
            Product.status,
            Product.attributes,
        )
        .outerjoin(Brand, Brand.id == Product.brand_id)
        .outerjoin(ProductCategory, ProductCategory.id == Product.category_id)
        .where(Product.vendor_id == vendor_id)
        .order_by(Product.sku, Product.id)
        .execution_options(yield_per=1000)
    )
    for row in db.session.execute(query):
        *head, attributes = row
        yield ["" if v is None else v for v in head] + [format_csv_attributes(attributes)]
