#!/usr/bin/env bash
# Set up everything the tests need (see scripts/lib.sh), with Debian's chromium for the browser
# tests, then run the whole suite. Arguments go to pytest:
#   bash scripts/test.sh tests/test_scheduling.py -k tick
#   bash scripts/test.sh -m "not browser"
# tests/conftest.py creates and migrates the test database (portal_test) itself. Every run ends
# with the 15 slowest tests (pytest --durations=15). The suite runs on one pytest-xdist worker per
# core (PYTEST_WORKERS=N to choose, 0 for none), each with its own database (portal/config.py).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

setup_common --browser --test

say "running pytest $*"
status=0
# The 15 slowest tests close every run (CI's log included), so a slow new test shows at once.
"$VENV/bin/pytest" -n "${PYTEST_WORKERS:-auto}" --dist loadfile --durations=15 "$@" || status=$?
if [ "$status" -eq 5 ]; then
    warn "pytest collected no tests: that counts as a failure"
    exit 1
fi
exit "$status"
