"""Named points where a test may kill the process, to prove a job survives being killed there.

``PORTAL_FAILPOINT=<name>`` in the environment makes :func:`failpoint` send the process SIGKILL
when it reaches ``<name>`` (the exactly-once tests of payout runs run a worker subprocess so). Unset,
which is always the case outside those tests, a failpoint does nothing.
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    if os.environ.get("PORTAL_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
