"""The product import job: applies a checked CSV in batches, committing progress as it goes.

Each batch is one set-based upsert committed together with the import's counters, so the page
polling the ``product_imports`` row sees the bar move. A batch replayed after a crash (RQ retries)
finds its rows already written and changes nothing; a finished import returns at once.
"""

from __future__ import annotations

import uuid

from ..clock import utcnow
from ..extensions import db
from ..failures import JobRefused, failure_message
from ..media import private_path
from ..queues import enqueue
from .imports import apply_rows, batches, check_csv
from .match_jobs import start_match_run
from .models import ProductImport

IMPORT_JOB_TIMEOUT = 15 * 60


def enqueue_product_import(product_import: ProductImport):
    """Queue the job; call it after the commit that created the import row."""
    return enqueue(
        run_product_import,
        str(product_import.id),
        job_id=product_import.job_id,
        job_timeout=IMPORT_JOB_TIMEOUT,
        description=f"product import {product_import.filename}",
    )


def run_product_import(import_id: str) -> dict:
    product_import = db.session.get(ProductImport, uuid.UUID(str(import_id)))
    if product_import is None:
        return {"status": "missing"}
    if product_import.status == "done":
        return _summary(product_import)
    product_import.status = "running"
    product_import.started_at = utcnow()
    product_import.finished_at = None
    product_import.error = None
    product_import.processed_rows = product_import.created_count = 0
    product_import.updated_count = 0
    db.session.commit()
    try:
        path = private_path(product_import.file_path)
        # Checked again: the job trusts nothing it did not read itself.
        checked = check_csv(path.read_bytes(), max_rows=max(product_import.total_rows, 1))
        if not checked.ok:
            first = checked.errors[0]
            raise JobRefused(f"line {first.line}: {first.message}")
        product_import.total_rows = len(checked.rows)
        for batch in batches(checked.rows):
            result = apply_rows(product_import.vendor_id, batch, checked.columns)
            product_import.processed_rows += len(batch)
            product_import.created_count += result.created
            product_import.updated_count += result.updated
            db.session.commit()
        product_import.status = "done"
        product_import.finished_at = utcnow()
        start_match_run("vendor", vendor_id=product_import.vendor_id)  # the new and changed ones
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        product_import = db.session.get(ProductImport, uuid.UUID(str(import_id)))
        product_import.status = "failed"
        product_import.error = failure_message(error, f"product import {import_id}")
        product_import.finished_at = utcnow()
        db.session.commit()
        raise
    return _summary(product_import)


def _summary(product_import: ProductImport) -> dict:
    return {
        "status": product_import.status,
        "rows": product_import.total_rows,
        "created": product_import.created_count,
        "updated": product_import.updated_count,
    }
