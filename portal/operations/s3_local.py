"""A local S3-compatible server for the backup tests and the demo: moto's S3 over TLS on loopback.

    python -m portal.operations.s3_local --port 19443 --bucket portal-backups

pgBackRest 2.45 speaks S3 over HTTPS only (``repo1-storage-verify-tls=n`` accepts the self-signed
certificate made here at start). moto's own ``moto_server --ssl`` serves through Werkzeug, which
closes every connection after its response without TLS's close_notify; pgBackRest, reading an
empty body up to the end of the connection, takes that for a truncated reply and retries for a
minute. This server sends close_notify (``unwrap``) before closing, as a real S3 endpoint does.
Buckets and objects live in memory: a restart empties the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import ssl

from werkzeug.serving import (
    ThreadedWSGIServer,
    WSGIRequestHandler,
    generate_adhoc_ssl_context,
    make_server,
)


class _CloseNotifyServer(ThreadedWSGIServer):
    def shutdown_request(self, request) -> None:
        if isinstance(request, ssl.SSLSocket):
            with contextlib.suppress(OSError, ValueError):
                request = request.unwrap()  # sends close_notify, hands back the plain socket
        with contextlib.suppress(OSError):
            request.shutdown(socket.SHUT_WR)
        request.close()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass  # one line per WAL segment and file otherwise


def s3_app():
    from moto.moto_server.werkzeug_app import create_backend_app

    return create_backend_app("s3")


def serve(host: str, port: int, bucket: str | None = None) -> _CloseNotifyServer:
    """A started-but-not-serving server; the caller runs ``serve_forever``."""
    server = make_server(
        host, port, s3_app(), threaded=True, ssl_context=generate_adhoc_ssl_context()
    )
    server.__class__ = _CloseNotifyServer  # make_server builds the class; only its close differs
    if bucket:
        _create_bucket(server, bucket)
    return server


def _create_bucket(server, bucket: str) -> None:
    # Through the app itself (no request signing is checked by moto), before serving starts.
    from werkzeug.test import Client

    response = Client(server.app).put(f"/{bucket}", headers={"Host": "s3.amazonaws.com"})
    if response.status_code not in (200, 409):
        raise RuntimeError(f"could not create bucket {bucket}: {response.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=19443)
    parser.add_argument("--bucket", default="portal-backups")
    args = parser.parse_args()
    server = serve(args.host, args.port, args.bucket)
    print(f"S3 on https://{args.host}:{server.server_port}, bucket {args.bucket}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
