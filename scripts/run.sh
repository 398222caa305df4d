#!/usr/bin/env bash
# Set up everything (see scripts/lib.sh), load the demo data, then serve the portal on
# http://127.0.0.1:${PORT:-8000} with gunicorn and run the background worker beside it.
# Ctrl+C (or SIGTERM) stops both.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${PORT:-8000}"
# Mailed links (sign-up, reset) point at the address this run serves.
export PUBLIC_URL="${PUBLIC_URL:-http://127.0.0.1:$PORT}"

setup_common
ensure_database
flask_cmd "database: migrating (flask db upgrade)" db upgrade
flask_cmd "database: partitions (flask partitions ensure)" partitions ensure

say "demo data (flask seed demo)"
"$VENV/bin/flask" --app portal seed demo

WORKER_LOG="$LOG_DIR/worker.log"
"$PY" worker.py >>"$WORKER_LOG" 2>&1 &
WORKER_PID=$!
say "worker: started (pid $WORKER_PID, log $WORKER_LOG)"

GUNICORN_PID=""
stop_all() {
    trap - EXIT INT TERM
    [ -n "$GUNICORN_PID" ] && kill -TERM "$GUNICORN_PID" 2>/dev/null
    kill -TERM "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null
    [ -n "$GUNICORN_PID" ] && wait "$GUNICORN_PID" 2>/dev/null
    say "stopped"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "portal: http://127.0.0.1:$PORT (Ctrl+C to stop)"
# Workers, worker model and the access log: scripts/gunicorn.conf.py (why: docs/performance.md).
"$VENV/bin/gunicorn" -c "$ROOT/scripts/gunicorn.conf.py" -b "0.0.0.0:$PORT" \
    'portal:create_app()' &
GUNICORN_PID=$!
wait "$GUNICORN_PID"
