"""Where a page's time goes inside the app: the WSGI app called in-process, no server, no network.

    PYTHONPATH=. .venv/bin/python -m bench.profile_page                  # /vendor/, 2,000 requests
    PYTHONPATH=. .venv/bin/python -m bench.profile_page /vendor/orders/ --profile var/orders.prof

Signed in as the owner of the shop with the most orders in ``portal_bench`` (``bench.generate``),
each request is one call of the app's WSGI callable with the same environ a server would build
(the session cookie included), beside ``bench.hello``'s app called the same way. Both are timed
with the process's CPU clock, so the ratio holds on a busy machine better than wall time does. With
``--profile`` the portal's requests also run under cProfile; ``--top`` prints the heaviest calls.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from werkzeug.test import EnvironBuilder

from bench.generate import BENCH_PASSWORD, DEFAULT_DATABASE_URL, bench_app
from bench.hello import app as hello_app
from bench.pages import largest_shop_owner


def call(app, environ: dict) -> tuple[str, bytes]:
    status_seen = []

    def start_response(status, headers, exc_info=None):
        status_seen.append((status, headers))

    body = b"".join(app(dict(environ), start_response))
    return status_seen[0][0], body, status_seen[0][1]


def signed_in_environ(app, email: str, path: str) -> dict:
    """The environ of a request for ``path`` from the browser that just signed in as ``email``:
    its cookie, address and agent (Flask-Login ties the session to the last two)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/login", data={"email": email, "password": BENCH_PASSWORD, "csrf_token": token}
    )
    if answer.status_code != 302:
        raise SystemExit(f"sign-in as {email} answered {answer.status_code}")
    cookie = client.get_cookie("session")
    return EnvironBuilder(
        path=path,
        headers={"Cookie": f"session={cookie.value}"},
        environ_base=client.environ_base,
    ).get_environ()


def cpu_ms_per_call(app, environ: dict, count: int) -> float:
    began = time.process_time()
    for _ in range(count):
        status, _, _ = call(app, environ)
    if not status.startswith("200"):
        raise SystemExit(f"{environ['PATH_INFO']} answered {status}")
    return (time.process_time() - began) * 1000 / count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default="/vendor/")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", help="write cProfile stats of the portal's requests here")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)

    email, shop, orders = largest_shop_owner(args.database_url)
    portal = bench_app(args.database_url)
    environ = signed_in_environ(portal, email, args.path)
    hello_environ = EnvironBuilder(path="/").get_environ()
    for app, env in ((portal, environ), (hello_app, hello_environ)):
        cpu_ms_per_call(app, env, 50)  # warm: templates compiled, statements prepared

    # The fastest of five batches: on a shared machine the others measure the neighbours too.
    batch = max(1, args.requests // 5)
    page_ms = min(cpu_ms_per_call(portal, environ, batch) for _ in range(5))
    hello_ms = min(cpu_ms_per_call(hello_app, hello_environ, batch) for _ in range(5))
    print(f'{args.path} as the owner of "{shop}" ({orders:,} orders), fastest of 5 x {batch}')
    print(f"  portal      {page_ms:6.2f} ms CPU per request (this process; PostgreSQL not counted)")
    print(f"  hello-world {hello_ms:6.2f} ms")
    print(f"  ratio       {hello_ms / page_ms:6.1%}")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        cpu_ms_per_call(portal, environ, args.requests)
        profiler.disable()
        profiler.dump_stats(args.profile)
        stats = pstats.Stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
