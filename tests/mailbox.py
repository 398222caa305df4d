"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and a way to run the
mail jobs for real (an RQ SimpleWorker in burst mode against the test Redis)."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from rq import SimpleWorker

from portal import queues
from portal.extensions import mail

LINK = re.compile(r"https?://\S+")


class _AppSimpleWorker(SimpleWorker):
    """Runs each job in this process (no fork), inside the app context."""

    def __init__(self, *args, app, **kwargs):
        self.app = app
        super().__init__(*args, connection=queues.get_redis(app), **kwargs)

    def perform_job(self, job, queue):
        with self.app.app_context():
            return super().perform_job(job, queue)


class Mailbox:
    def __init__(self, app):
        self.app = app
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def deliver(self) -> None:
        """Run every queued job (the mail jobs) now, as the worker would."""
        name = queues.prefixed_queue_name("default", self.app)
        _AppSimpleWorker([name], app=self.app).work(burst=True)

    def to(self, address: str) -> list[EmailMessage]:
        self.deliver()
        return [m for m in self.messages if m["To"] == address]

    def last_to(self, address: str) -> EmailMessage:
        received = self.to(address)
        assert received, f"no mail to {address}; got {[m['To'] for m in self.messages]}"
        return received[-1]


def body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def links(message: EmailMessage) -> list[str]:
    return LINK.findall(body(message))


def path_of(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox(app):
    box = Mailbox(app)
    queues.get_queue("default", app).empty()  # jobs other tests left behind
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    saved = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = port
    mail.init_app(app)  # Flask-Mail reads its settings once
    try:
        yield box
    finally:
        app.config["MAIL_PORT"] = saved
        mail.init_app(app)
        controller.stop()
