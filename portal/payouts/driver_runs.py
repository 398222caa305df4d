"""The drivers' part of a payout run (runs.py): grouping their earnings, marking them paid.

Grouping runs in the run's grouping transaction, after the vendors', with the same shape: the
payable earnings (``settled``, in no payout and listed by no unmarked payout) are summed per
driver, a driver who cannot be paid gets a hold with its reason, every other one a ``payouts`` row
(``driver_id``, ``earning_ids``, ``pending``, key ``payout-<id>``). What the vendors' payouts of
the run already promise of the balance comes first. Sending is the vendors' path (``runs._send``);
marking writes the earnings the run's paid payouts list, in the commit of the vendors' records.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from .driver_models import DriverEarning
from .models import Payout
from .payable import unmarked_payouts


def claimed_earning_ids(driver_id: uuid.UUID | None = None) -> sa.Select:
    """Rows ``(id)``: the earnings listed by unmarked payouts (of one driver, or all)."""
    listed = sa.func.unnest(Payout.earning_ids).table_valued("id").render_derived()
    query = (
        sa.select(listed.c.id)
        .select_from(Payout)
        .join(listed, sa.true())
        .where(Payout.driver_id.is_not(None), unmarked_payouts())
    )
    if driver_id is not None:
        query = query.where(Payout.driver_id == driver_id)
    return query


def payable_earnings(driver_id: uuid.UUID | None = None) -> sa.Select:
    """The one rule for what a run pays a driver: settled, unpaid, claimed by no payout."""
    claimed = claimed_earning_ids(driver_id).subquery()
    query = sa.select(DriverEarning.id, DriverEarning.driver_id, DriverEarning.amount).where(
        DriverEarning.status == "settled",
        DriverEarning.payout_id.is_(None),
        ~sa.exists().where(claimed.c.id == DriverEarning.id),
    )
    if driver_id is not None:
        query = query.where(DriverEarning.driver_id == driver_id)
    return query


def payable_total(driver_id: uuid.UUID) -> tuple[Decimal, int]:
    """What the next run would pay the driver, and how many deliveries."""
    payable = payable_earnings(driver_id).subquery()
    total, count = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(payable.c.amount), 0), sa.func.count())
    ).one()
    return Decimal(total), count


def group_drivers(params: dict, sql) -> None:
    """Payouts and holds of the drivers, in the caller's transaction (``sql`` compiles a query)."""
    execute = db.session.execute
    execute(sa.text("DROP TABLE IF EXISTS run_drivers"))
    execute(
        sa.text(
            f"""
            CREATE TEMP TABLE run_drivers AS
            SELECT e.driver_id, sum(e.amount) AS net, count(*) AS record_count,
                   CASE WHEN a.id IS NULL THEN 'no_account'
                        WHEN NOT a.payouts_enabled THEN 'payouts_disabled'
                        WHEN coalesce(a.capabilities ->> 'transfers', '') <> 'active'
                             THEN 'transfers_inactive'
                        WHEN sum(e.amount) < :minimum THEN 'below_minimum'
                   END::varchar(30) AS reason,
                   NULL::uuid AS payout_id,
                   array_agg(e.id ORDER BY e.id) AS earning_ids
            FROM ({sql(payable_earnings())}) e
            LEFT JOIN connected_accounts a ON a.driver_id = e.driver_id
            GROUP BY e.driver_id, a.id
            """
        ),
        params,
    )
    # The balance left after the vendors' payouts of this run: drivers held longest first.
    execute(
        sa.text(
            """
            UPDATE run_drivers v SET reason = 'platform_balance'
            FROM (SELECT v.driver_id,
                         sum(v.net) OVER (ORDER BY h.held_since NULLS LAST, v.net, v.driver_id)
                           AS running
                  FROM run_drivers v LEFT JOIN driver_payout_holds h ON h.driver_id = v.driver_id
                  WHERE v.reason IS NULL) c
            WHERE c.driver_id = v.driver_id
              AND c.running > :available - (SELECT coalesce(sum(amount), 0) FROM payouts
                                            WHERE batch_id = :run AND amount > 0)
            """
        ),
        params,
    )
    execute(sa.text("UPDATE run_drivers SET payout_id = gen_random_uuid() WHERE reason IS NULL"))
    execute(
        sa.text(
            """
            INSERT INTO payouts (id, batch_id, driver_id, kind, amount, earning_ids, status,
                                 idempotency_key, attempts, created_at, updated_at)
            SELECT payout_id, :run, driver_id, 'transfer', net, earning_ids, 'pending',
                   'payout-' || payout_id, 0, :now, :now
            FROM run_drivers WHERE reason IS NULL
            """
        ),
        params,
    )
    execute(
        sa.text(
            """
            INSERT INTO payout_run_driver_holds (run_id, driver_id, reason, amount_waiting,
                                                 record_count)
            SELECT :run, driver_id, reason, net, record_count FROM run_drivers
            WHERE reason IS NOT NULL
            """
        ),
        params,
    )
    execute(
        sa.text(
            """
            INSERT INTO driver_payout_holds (driver_id, reason, held_since, reason_since,
                                             amount_waiting, record_count, last_run_id, updated_at)
            SELECT driver_id, reason, :now, :now, net, record_count, :run, :now
            FROM run_drivers WHERE reason IS NOT NULL
            ON CONFLICT (driver_id) DO UPDATE SET
              reason = EXCLUDED.reason,
              reason_since = CASE WHEN driver_payout_holds.reason = EXCLUDED.reason
                                  THEN driver_payout_holds.reason_since
                                  ELSE EXCLUDED.reason_since END,
              amount_waiting = EXCLUDED.amount_waiting,
              record_count = EXCLUDED.record_count,
              last_run_id = EXCLUDED.last_run_id,
              updated_at = EXCLUDED.updated_at
            """
        ),
        params,
    )
    execute(
        sa.text(
            """
            DELETE FROM driver_payout_holds h WHERE NOT EXISTS (
              SELECT 1 FROM run_drivers v WHERE v.driver_id = h.driver_id AND v.reason IS NOT NULL)
            """
        )
    )
    execute(sa.text("DROP TABLE run_drivers"))


def mark_earnings_paid(payout_ids: list[uuid.UUID]) -> int:
    """The earnings these paid payouts list get the payout's id and become ``paid`` (not
    committed). Only ``settled`` ones: marking twice changes nothing."""
    listed = (
        sa.select(
            Payout.id.label("payout_id"),
            sa.func.unnest(Payout.earning_ids).label("earning_id"),
        )
        .where(Payout.id.in_(payout_ids), Payout.status == "paid", Payout.driver_id.is_not(None))
        .subquery()
    )
    return db.session.execute(
        sa.update(DriverEarning)
        .where(DriverEarning.id == listed.c.earning_id, DriverEarning.status == "settled")
        .values(status="paid", payout_id=listed.c.payout_id)
        .execution_options(synchronize_session=False)
    ).rowcount
