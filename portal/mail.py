"""Outgoing mail: composed during the request, sent by an RQ job after the commit.

Code that sends mail calls :func:`send_after_commit`; the message waits in the database
session's outbox and is enqueued only when that session commits (a rollback drops it), so no
mail announces something that was not saved. The job, :func:`deliver`, sends through SMTP
(Flask-Mail, configured by ``MAIL_SERVER`` and friends) or, with ``MAIL_BACKEND = "file"``
(development and the demo), writes the message to ``MAIL_FOLDER``, where the admin's Sent mail
page reads it.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from dataclasses import asdict, dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template
from flask_mail import Message

from .clock import utcnow
from .extensions import db, mail

log = logging.getLogger(__name__)
_OUTBOX = "portal.mail.outbox"
MESSAGE_ID = re.compile(r"\d{14}-[0-9a-f]{12}")  # as send_after_commit names a message


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    to: str
    subject: str
    body: str


def public_url(endpoint: str, **values) -> str:
    """An absolute link for a mail, on ``PUBLIC_URL`` whatever Host header the request had."""
    adapter = current_app.url_map.bind("localhost")
    return current_app.config["PUBLIC_URL"].rstrip("/") + adapter.build(endpoint, values)


def send_after_commit(to: str, template: str, **context) -> Outgoing:
    """Compose ``templates/mail/<template>.txt`` (first line ``Subject: ...``) and queue it."""
    text = render_template(f"mail/{template}.txt", **context)
    subject_line, _, body = text.partition("\n")
    outgoing = Outgoing(
        message_id=f"{utcnow():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:12]}",
        to=to,
        subject=subject_line.removeprefix("Subject:").strip(),
        body=body.lstrip("\n"),
    )
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so the commit (or rollback) that decides this mail fires its event
    session.info.setdefault(_OUTBOX, []).append(outgoing)
    return outgoing


@sa.event.listens_for(db.session, "after_commit")
def _enqueue_outbox(session) -> None:
    from .queues import enqueue

    for outgoing in session.info.pop(_OUTBOX, []):
        try:
            enqueue(deliver, asdict(outgoing), job_id=f"mail-{outgoing.message_id}")
        except Exception:  # the commit stands; the log says which mail was not queued
            log.exception("could not queue mail %s to %s", outgoing.message_id, outgoing.to)


@sa.event.listens_for(db.session, "after_soft_rollback")
def _drop_outbox(session, previous_transaction) -> None:
    # Only the outermost transaction's rollback: a savepoint rolled back inside a request that
    # goes on to commit keeps the mail the rest of the request composed.
    if previous_transaction.parent is None:
        session.info.pop(_OUTBOX, None)


def deliver(outgoing: dict) -> None:
    """The job: send one composed message through the configured backend."""
    config = current_app.config
    message = Message(
        subject=outgoing["subject"],
        recipients=[outgoing["to"]],
        body=outgoing["body"],
        sender=config["MAIL_DEFAULT_SENDER"],
        extra_headers={"X-Portal-Message-Id": outgoing["message_id"]},
    )
    if config["MAIL_BACKEND"] == "file":
        folder = Path(config["MAIL_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{outgoing['message_id']}.eml"
        temporary = path.with_suffix(".part")
        temporary.write_bytes(message.as_bytes())
        os.replace(temporary, path)  # a reader never sees half a message
        return
    mail.send(message)


# --- reading the mail folder (development, the demo) ----------------------------------------


@dataclass(frozen=True)
class StoredMail:
    message_id: str
    to: str
    subject: str
    date: str
    body: str


def _read(path: Path) -> StoredMail:
    parsed: EmailMessage = message_from_bytes(path.read_bytes(), policy=policy.default)
    body = parsed.get_body(("plain",))
    return StoredMail(
        message_id=path.stem,
        to=str(parsed["To"]),
        subject=str(parsed["Subject"]),
        date=str(parsed["Date"]),
        body=body.get_content() if body else "",
    )


def stored_mail(limit: int = 100) -> list[StoredMail]:
    """The newest messages the file backend wrote, newest first."""
    folder = Path(current_app.config["MAIL_FOLDER"])
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_read(path) for path in paths]


def stored_message(message_id: str) -> StoredMail | None:
    """One written message, or None (not written yet, or not a message id)."""
    if not MESSAGE_ID.fullmatch(message_id):  # also keeps a 5,000-character id off the disk
        return None
    path = Path(current_app.config["MAIL_FOLDER"]) / f"{message_id}.eml"
    return _read(path) if path.is_file() else None
