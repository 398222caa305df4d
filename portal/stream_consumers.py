"""The worker's loop over a Redis stream, shared by the position pings and the referral visits.

Both buffer writes a request should not wait for and apply them in batches, one transaction per
batch: the loop applies batches as they come, waits ``pause`` seconds after a batch smaller than
``batch_size`` so the next one gathers more, recovers unacknowledged and abandoned entries at the
start and every ``recover_seconds``, and logs a failure and retries after a second.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from flask import Flask

from .extensions import db

log = logging.getLogger(__name__)


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"


def consume_until_stopped(
    app: Flask,
    stop: threading.Event,
    consume: Callable[[str, bool], int],
    *,
    batch_size: int,
    pause: float,
    recover_seconds: float,
    what: str,
) -> None:
    """Call ``consume(consumer, recover)`` (it applies one batch and returns how many entries it
    read) in an app context until ``stop`` is set."""
    consumer = consumer_name()
    log.info("%s consumer %s started", what, consumer)
    recovered_at = 0.0
    while not stop.is_set():
        with app.app_context():
            try:
                recover = time.monotonic() - recovered_at >= recover_seconds
                read = consume(consumer, recover)
                if recover:
                    recovered_at = time.monotonic()
                if 0 < read < batch_size:
                    stop.wait(pause)
            except Exception:
                log.exception("applying %s failed; retrying", what)
                recovered_at = 0.0
                stop.wait(1)
            finally:
                db.session.remove()
    log.info("%s consumer stopped", what)
