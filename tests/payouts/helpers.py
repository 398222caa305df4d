"""Commission records ready to pay: orders placed through intake, completed and settled."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.commissions.services import settle_due_commissions
from portal.extensions import db
from portal.orders.intake import apply_order_event
from portal.payouts import runs
from portal.payouts.models import Payout
from portal.payouts.payable import payable_records
from tests.orders.helpers import established_shop, follow_up, now, paid_order, refunded


def settled_order(shop, price: str = "50.00", *, refund: str | None = None, days_ago: int = 30):
    """A paid order of ``shop``, optionally refunded, completed and settled: its records (and
    the refund's reversal) become payable."""
    at = now() - timedelta(days=days_ago + 1)
    order = paid_order(shop, at=at, items=[(price, 1)])
    if refund:
        apply_order_event(refunded(order.external_id, refund, at=at))
    apply_order_event(
        follow_up(order.external_id, "order.completed", at=now() - timedelta(days=days_ago))
    )
    settle_due_commissions(now())
    return order


def connect(shop, server, *, onboard: bool = True):
    """A connected account for ``shop`` on the local Stripe server, as onboarding records it."""
    from portal.payouts.gateway import gateway
    from portal.payouts.models import ConnectedAccount

    account = gateway().create_express_account(idempotency_key=f"acct-{shop.id}")
    if onboard:
        server.onboard(account.id)
        account = gateway().retrieve_account(account.id)
    row = ConnectedAccount(
        vendor_id=shop.id,
        stripe_account_id=account.id,
        account_type="express",
        capabilities=account.capabilities,
        charges_enabled=account.charges_enabled,
        payouts_enabled=account.payouts_enabled,
        requirements=account.requirements,
    )
    db.session.add(row)
    db.session.flush()
    return row


def payable_shop(server, price: str = "50.00"):
    """An onboarded shop with one settled order, and a platform balance that covers it."""
    server.set_balance(1_000_000)
    shop = established_shop()
    connect(shop, server)
    settled_order(shop, price)
    return shop


def net_of(shop) -> Decimal:
    return sum(row.vendor_net for row in db.session.execute(payable_records(shop.id)))


def listed_sums(record_ids) -> dict:
    """What grouping keeps on a payout listing these records (those still settled): the
    ``unmarked_*`` columns, summed from the records themselves."""
    from portal.commissions.models import CommissionRecord, VendorPlatformFee

    fee = (
        sa.select(sa.func.coalesce(sa.func.sum(VendorPlatformFee.fee_amount), 0))
        .where(
            VendorPlatformFee.order_id == CommissionRecord.order_id,
            VendorPlatformFee.vendor_id == CommissionRecord.shop_id,
            VendorPlatformFee.refund_id.is_not_distinct_from(CommissionRecord.refund_id),
        )
        .scalar_subquery()
    )
    count, amount, commission, fees = db.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(CommissionRecord.order_amount), 0),
            sa.func.coalesce(sa.func.sum(CommissionRecord.commission_amount), 0),
            sa.func.coalesce(sa.func.sum(fee), 0),
        ).where(CommissionRecord.id.in_(list(record_ids)), CommissionRecord.status == "settled")
    ).one()
    return {
        "unmarked_count": count,
        "unmarked_amount": amount,
        "unmarked_commission": commission,
        "unmarked_fee": fees,
    }


def payouts_of(shop) -> list[Payout]:
    return db.session.scalars(sa.select(Payout).where(Payout.vendor_id == shop.id)).all()


def failed_after_drop(shop, app_stripe) -> Payout:
    """A payout whose transfer Stripe made, but whose answer never arrived (failed)."""
    app_stripe.arm("drop_after")
    app_stripe.arm("rate_limit", times=3)
    runs.run_payouts()
    [payout] = payouts_of(shop)
    assert payout.status == "failed" and payout.failed_at is not None
    assert payout.failure_reason
    assert len(app_stripe.transfer_log()) == 1  # made, though the portal does not know it
    return payout


def payout_run_with_a_failure_and_a_hold(committed, vendor, held_vendor):
    """A finished run: a failed payout (with its retry button) and a held vendor."""
    from portal.clock import utcnow
    from portal.payouts.models import PayoutRun, PayoutRunHold

    run = PayoutRun(trigger="admin", status="finished", finished_at=utcnow())
    committed.add(run)
    committed.flush()
    committed.add(
        Payout(
            batch_id=run.id,
            vendor_id=vendor.id,
            vendor_type=vendor.vendor_type,
            amount=Decimal("1234.50"),
            commission_ids=[],
            status="failed",
            failed_at=utcnow(),
            failure_reason="Stripe did not answer after 4 attempts (long, to wrap on a phone)",
            idempotency_key=f"payout-walk-{run.id}",
        )
    )
    committed.add(
        PayoutRunHold(
            run_id=run.id,
            vendor_id=held_vendor.id,
            reason="no_account",
            amount_waiting=Decimal("12.00"),
            record_count=1,
        )
    )
    committed.flush()
    committed.refresh(run)
    return run


MARKING_JOB = "portal.payouts.marking.mark_payout_records_job"


def queued_marking_jobs() -> list:
    from portal.queues import get_queue

    return [job for job in get_queue("default").get_jobs() if job.func_name == MARKING_JOB]


def mark_queued_records() -> int:
    """Run the marking job a payment queued, as the worker would next (the run itself writes no
    record). Returns the records it wrote."""
    from portal.payouts.marking import mark_payout_records_job

    jobs = queued_marking_jobs()
    assert jobs, "no marking job was queued"
    for job in jobs:
        job.delete()
    return mark_payout_records_job()
