"""Where the gateway points: Stripe itself in production, the local server in development."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from portal.config import DEVELOPMENT_SECRETS, LOCAL_STRIPE_API, STRIPE_API

PRINT_BASE = "from portal.config import Config; print(Config.STRIPE_API_BASE)"


def _api_base(**env) -> str:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PORTAL_ENV", "STRIPE_API_BASE"}
    }
    environment.update(env)
    result = subprocess.run(
        [sys.executable, "-c", PRINT_BASE],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PORTAL_ENV": "production"}, STRIPE_API),
        ({"PORTAL_ENV": "development"}, LOCAL_STRIPE_API),
        (
            {"PORTAL_ENV": "production", "STRIPE_API_BASE": "https://stripe-proxy.example.test"},
            "https://stripe-proxy.example.test",
        ),
    ],
)
def test_the_api_base_by_mode(env, expected):
    assert _api_base(**env) == expected


def test_the_stripe_keys_are_among_the_secrets_production_needs():
    # tests/auth/test_production_secrets.py refuses a start without each of these.
    assert {
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_CONNECT_WEBHOOK_SECRET",
    } <= DEVELOPMENT_SECRETS.keys()
