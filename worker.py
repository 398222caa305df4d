"""Background worker: runs RQ jobs (queues high, default, low) and the periodic-job scheduler.

    python worker.py                   # worker + scheduler, until SIGTERM / Ctrl+C
    python worker.py --burst           # run what is queued (and due), then exit
    python worker.py --no-scheduler    # worker only
    python worker.py --scheduler-only  # scheduler only (ticks every 30 s)
    python worker.py --no-positions    # without the drivers' position consumer thread
    python worker.py --no-referral-visits  # without the referral visits' consumer thread

Every job runs inside the Flask app context (``portal.queues.AppWorker``). The scheduler ticks at
start-up, so a slot missed while the machine was down runs as soon as it is back. Beside the jobs a
thread applies the drivers' position pings from their Redis stream as they come
(``portal.deliveries.positions.run_consumer``), another the referral links' first visits
(``portal.referrals.buffer.run_consumer``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from flask import Flask

from portal import create_app, scheduling
from portal.clock import utcnow
from portal.deliveries.positions import run_consumer
from portal.queues import make_worker
from portal.referrals.buffer import run_consumer as run_visit_consumer

TICK_SECONDS = 30
log = logging.getLogger("portal.worker")


def scheduler_tick(app: Flask) -> None:
    with app.app_context():
        try:
            scheduling.tick(utcnow())
        except Exception:
            # A Redis hiccup must not kill the loop; the next tick retries.
            log.exception("periodic scheduler tick failed")


def run_scheduler(
    app: Flask, stop: threading.Event, interval: float = TICK_SECONDS, tick_first: bool = True
) -> None:
    log.info("periodic scheduler started (every %ss)", interval)
    if not tick_first:
        stop.wait(interval)
    while not stop.is_set():
        scheduler_tick(app)
        stop.wait(interval)
    log.info("periodic scheduler stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="run queued jobs, then exit")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--no-scheduler", action="store_true", help="don't run periodic jobs")
    mode.add_argument("--scheduler-only", action="store_true", help="don't run jobs, only enqueue")
    parser.add_argument(
        "--no-positions", action="store_true", help="don't apply drivers' position pings"
    )
    parser.add_argument(
        "--no-referral-visits",
        action="store_true",
        help="don't apply referral links' first visits",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its set-up chatter, on import
    app = create_app()

    if args.scheduler_only:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if args.burst:
            scheduler_tick(app)
        else:
            run_scheduler(app, stop)
        return 0

    if not args.no_scheduler:
        # Enqueue whatever is due before the worker looks at its queues, so --burst runs it too.
        scheduler_tick(app)

    stop = threading.Event()
    thread = None
    if not args.no_scheduler and not args.burst:
        thread = threading.Thread(
            target=run_scheduler,
            args=(app, stop),
            kwargs={"tick_first": False},
            name="periodic-scheduler",
            daemon=True,
        )
        thread.start()

    positions = None
    if not args.no_positions and not args.burst:
        positions = threading.Thread(
            target=run_consumer, args=(app, stop), name="position-consumer", daemon=True
        )
        positions.start()

    visits = None
    if not args.no_referral_visits and not args.burst:
        visits = threading.Thread(
            target=run_visit_consumer, args=(app, stop), name="referral-visits", daemon=True
        )
        visits.start()

    worker = make_worker(app)
    try:
        # with_scheduler: RQ's own scheduler moves retries (Retry intervals) back onto the queues.
        worker.work(burst=args.burst, with_scheduler=True, logging_level=args.log_level.upper())
    finally:
        stop.set()
        for running in (thread, positions, visits):
            if running is not None:
                running.join(timeout=5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
