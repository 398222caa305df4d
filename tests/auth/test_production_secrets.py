"""Production refuses to start without real secrets (a fresh interpreter, as a server starts)."""

import os
import subprocess
import sys

import pytest

from portal.config import DEVELOPMENT_SECRETS

START = "from portal import create_app; create_app(); print('started')"
REAL = {name: f"real-{name.lower()}-" + "x" * 40 for name in DEVELOPMENT_SECRETS}


def _start(**env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in DEVELOPMENT_SECRETS and key != "PORTAL_ENV"
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", START], env=environment, capture_output=True, text=True, timeout=60
    )


def test_production_starts_with_every_secret_set():
    result = _start(PORTAL_ENV="production", **REAL)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize("name", DEVELOPMENT_SECRETS)
@pytest.mark.parametrize("how", ["unset", "empty", "development default"])
def test_production_refuses_a_missing_or_default_secret(name, how):
    env = dict(REAL)
    if how == "unset":
        del env[name]
    else:
        env[name] = "" if how == "empty" else DEVELOPMENT_SECRETS[name]
    result = _start(PORTAL_ENV="production", **env)
    assert result.returncode != 0
    assert "MissingSecrets" in result.stderr and f"set {name}" in result.stderr


def test_development_starts_with_the_defaults():
    assert _start(PORTAL_ENV="development").returncode == 0
