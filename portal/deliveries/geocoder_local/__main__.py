"""``python -m portal.deliveries.geocoder_local``: serve the local geocoder."""

from __future__ import annotations

import argparse
import os

from werkzeug.serving import run_simple

from .server import DEFAULT_PORT, LocalGeocoder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m portal.deliveries.geocoder_local")
    parser.add_argument("--host", default="127.0.0.1")
    default_port = int(os.environ.get("GEOCODER_LOCAL_PORT", DEFAULT_PORT))
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args(argv)
    print(f"local geocoder on http://{args.host}:{args.port}", flush=True)
    run_simple(args.host, args.port, LocalGeocoder().app, threaded=True)


if __name__ == "__main__":
    main()
