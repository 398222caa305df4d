"""What the portal's local stand-ins for outside services share (the local Stripe server, the
local DoorDash server): a WSGI app served on loopback in a thread, and a sender that delivers
webhooks one at a time, in the order they were made, from a thread of its own (so a request that
causes one is answered first, and a receiver that calls back does not wait for itself)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


class ServerThread:
    """A threaded server on ``host:port`` (port 0: a free one). ``.url`` is known before the
    app is (apps that name their own address need it), ``start(app)`` serves, ``stop()`` ends."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._server = make_server(host, port, None, threaded=True, request_handler=QuietHandler)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread: threading.Thread | None = None

    def start(self, app) -> None:
        self._server.app = app
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.server_close()


class OrderedSender:
    """``deliver(item)`` for each item ``put``, one at a time and in order, in a thread."""

    def __init__(self, deliver: Callable[[Any], None], name: str, join_seconds: float = 10):
        self._deliver = deliver
        self._join_seconds = join_seconds
        self._queue: queue.Queue[Any] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._stop = object()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def put(self, item: Any) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(item)

    def wait_idle(self, timeout: float) -> bool:
        """True once every item put so far was delivered; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def close(self) -> None:
        self._queue.put(self._stop)
        self._thread.join(timeout=self._join_seconds)

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._stop:
            try:
                self._deliver(item)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
