"""``python -m portal.payouts.stripe_local``: serve the local Stripe server on loopback."""

from __future__ import annotations

import argparse
import os

from werkzeug.serving import run_simple

from ...config import DEVELOPMENT_SECRETS
from .server import DEFAULT_PORT, LocalStripe
from .state import DAY
from .webhooks import CONNECT, PLATFORM, Endpoint


def _portal_setting(name: str) -> str:
    return os.environ.get(name) or DEVELOPMENT_SECRETS[name]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m portal.payouts.stripe_local")
    parser.add_argument("--host", default="127.0.0.1")
    default_port = int(os.environ.get("STRIPE_LOCAL_PORT", DEFAULT_PORT))
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument(
        "--public-url", help="the address pages and links point at (default http://HOST:PORT)"
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("STRIPE_SECRET_KEY"),
        help="the one sk_test_ key to accept (default: STRIPE_SECRET_KEY, else any sk_test_ key)",
    )
    parser.add_argument(
        "--idempotency-ttl",
        type=float,
        default=DAY,
        help="seconds an idempotency key is remembered (Stripe: 24 hours)",
    )
    parser.add_argument("--balance", type=int, default=0, help="available USD balance, in cents")
    parser.add_argument("--webhook-url", help="the portal's platform webhook endpoint")
    # The portal's own settings by default, so that the demo's two ends agree.
    parser.add_argument("--webhook-secret", default=_portal_setting("STRIPE_WEBHOOK_SECRET"))
    parser.add_argument("--connect-webhook-url", help="the portal's Connect webhook endpoint")
    parser.add_argument(
        "--connect-webhook-secret", default=_portal_setting("STRIPE_CONNECT_WEBHOOK_SECRET")
    )
    args = parser.parse_args(argv)

    webhooks: dict[str, Endpoint] = {}
    for name, url, secret in (
        (PLATFORM, args.webhook_url, args.webhook_secret),
        (CONNECT, args.connect_webhook_url, args.connect_webhook_secret),
    ):
        if url:
            webhooks[name] = Endpoint(url=url, secret=secret)
    local = LocalStripe(
        public_url=args.public_url or f"http://{args.host}:{args.port}",
        api_key=args.api_key,
        idempotency_ttl=args.idempotency_ttl,
        balance={"usd": args.balance},
        webhooks=webhooks,
    )
    print(f"local Stripe server on http://{args.host}:{args.port}", flush=True)
    run_simple(args.host, args.port, local.app, threaded=True)


if __name__ == "__main__":
    main()
