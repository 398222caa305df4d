"""What a failed background job tells the person watching it, and what it tells the operators.

A job's own refusal (a :class:`JobRefused`: the file became invalid, the month is not finished)
is shown as it is. Anything else (a database error with its SQL, a bug) is written to the log
with its traceback, for the operators, and the page shows only a short sentence: SQL, stack
traces and internal names never reach a user's page.
"""

from __future__ import annotations

from flask import current_app

UNEXPECTED = "an unexpected error stopped it (the details were logged for the marketplace's team)"
MAX_MESSAGE = 1000


class JobRefused(Exception):
    """A job's failure whose message is meant for the user who started it."""


def failure_message(error: BaseException, job: str) -> str:
    """The message to store on a failed job's row; logs the detail of an unexpected error."""
    if isinstance(error, JobRefused):
        return str(error)[:MAX_MESSAGE]
    current_app.logger.error("%s failed", job, exc_info=error)
    return UNEXPECTED
