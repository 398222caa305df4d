"""``python -m portal.deliveries.providers.doordash_local``: serve the local DoorDash server."""

from __future__ import annotations

import argparse
import os

from werkzeug.serving import run_simple

from ....config import DEVELOPMENT_SECRETS
from .server import DEFAULT_PORT, LocalDoorDash


def _portal_setting(name: str) -> str:
    return os.environ.get(name) or DEVELOPMENT_SECRETS[name]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m portal.deliveries.providers.doordash_local")
    parser.add_argument("--host", default="127.0.0.1")
    default_port = int(os.environ.get("DOORDASH_LOCAL_PORT", DEFAULT_PORT))
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument(
        "--public-url", help="the address tracking links point at (default http://HOST:PORT)"
    )
    # The portal's own settings by default, so that the demo's two ends agree.
    parser.add_argument("--developer-id", default=_portal_setting("DOORDASH_DEVELOPER_ID"))
    parser.add_argument("--key-id", default=_portal_setting("DOORDASH_KEY_ID"))
    parser.add_argument("--signing-secret", default=_portal_setting("DOORDASH_SIGNING_SECRET"))
    parser.add_argument("--webhook-url", help="the portal's DoorDash webhook endpoint")
    parser.add_argument(
        "--webhook-authorization",
        default=_portal_setting("DOORDASH_WEBHOOK_AUTHORIZATION"),
        help="the Authorization header value sent with each webhook",
    )
    args = parser.parse_args(argv)
    local = LocalDoorDash(
        public_url=args.public_url or f"http://{args.host}:{args.port}",
        developer_id=args.developer_id,
        key_id=args.key_id,
        signing_secret=args.signing_secret,
        webhook_url=args.webhook_url,
        webhook_authorization=args.webhook_authorization,
    )
    print(f"local DoorDash server on http://{args.host}:{args.port}", flush=True)
    run_simple(args.host, args.port, local.app, threaded=True)


if __name__ == "__main__":
    main()
