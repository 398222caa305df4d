"""A payout run in a process of its own, for the tests that kill it (test_run_interrupted.py).

    python -m tests.payouts.run_worker <local Stripe URL> [<PAYOUT_MARK_BATCH_RECORDS>]

Runs ``run_payouts()`` against the test database (``TEST_DATABASE_URL``) and the local Stripe
server over HTTP, then the marking job the run queued (as a worker would run it next);
``PORTAL_FAILPOINT`` in its environment kills or stops it at that point. Exits 0 when the run
finished, 3 when another process held the lock.
"""

from __future__ import annotations

import sys

from portal import create_app
from portal.config import TestConfig
from portal.payouts.marking import mark_payout_records_job
from portal.payouts.runs import RunLocked, run_payouts

LOCKED = 3


def main(url: str, mark_batch: str = "5000") -> int:
    app = create_app(TestConfig)
    app.config.update(
        STRIPE_API_BASE=url,
        STRIPE_SECRET_KEY="sk_test_portal_tests",
        STRIPE_RETRY_BASE_SECONDS=0,
        STRIPE_RETRY_MAX_SECONDS=0,
        PAYOUT_MARK_BATCH_RECORDS=int(mark_batch),
    )
    with app.app_context():
        try:
            run = run_payouts()
        except RunLocked:
            return LOCKED
        mark_payout_records_job()
        print(run.id)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
