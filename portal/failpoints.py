"""Named points where a test may stop or kill the process, to prove a job survives it there.

``PORTAL_FAILPOINT=<name>`` in the environment makes :func:`failpoint` send the process SIGKILL
when it reaches ``<name>``; ``PORTAL_FAILPOINT=<name>:stop`` sends SIGSTOP instead (frozen with
whatever it holds, until the test sends SIGCONT). The exactly-once tests of payout runs run a worker
subprocess so. Unset, as it always is outside those tests, a failpoint does nothing.
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    point, _, action = os.environ.get("PORTAL_FAILPOINT", "").partition(":")
    if point == name:
        os.kill(os.getpid(), signal.SIGSTOP if action == "stop" else signal.SIGKILL)
