#!/usr/bin/env bash
# Set up everything (see scripts/lib.sh), load the demo data, then serve the portal on
# http://127.0.0.1:${PORT:-8000} with gunicorn and run the background worker beside it.
# Ctrl+C (or SIGTERM) stops both.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${PORT:-8000}"
# PORTAL_HTTPS=1 serves https:// with a self-signed certificate (var/tls/), so a phone on the
# same network can try the driver's pages: browsers share a position only over HTTPS.
PORTAL_HTTPS="${PORTAL_HTTPS:-0}"
SCHEME=http
[ "$PORTAL_HTTPS" = "1" ] && SCHEME=https
# Mailed links (sign-up, reset) point at the address this run serves.
export PUBLIC_URL="${PUBLIC_URL:-$SCHEME://127.0.0.1:$PORT}"

setup_common
TLS_ARGS=()
if [ "$SCHEME" = "https" ]; then
    ensure_dev_certificate
    TLS_ARGS=(--certfile "$TLS_CERT" --keyfile "$TLS_KEY")
    export SESSION_COOKIE_SECURE=1
    # The local Stripe and DoorDash servers post their webhooks to this https address: they
    # trust the development certificate (Python's requests and urllib read these).
    export REQUESTS_CA_BUNDLE="$TLS_CERT" SSL_CERT_FILE="$TLS_CERT"
fi
ensure_database
flask_cmd "database: migrating (flask db upgrade)" db upgrade
flask_cmd "database: partitions (flask partitions ensure)" partitions ensure

GUNICORN_PID=""
WORKER_PID=""
STRIPE_PID=""
DOORDASH_PID=""
GEOCODER_PID=""
stop_all() {
    trap - EXIT INT TERM
    [ -n "$GUNICORN_PID" ] && kill -TERM "$GUNICORN_PID" 2>/dev/null
    [ -n "$WORKER_PID" ] && kill -TERM "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null
    [ -n "$GUNICORN_PID" ] && wait "$GUNICORN_PID" 2>/dev/null
    [ -n "$STRIPE_PID" ] && kill -TERM "$STRIPE_PID" 2>/dev/null && wait "$STRIPE_PID" 2>/dev/null
    [ -n "$DOORDASH_PID" ] && kill -TERM "$DOORDASH_PID" 2>/dev/null && wait "$DOORDASH_PID" 2>/dev/null
    [ -n "$GEOCODER_PID" ] && kill -TERM "$GEOCODER_PID" 2>/dev/null && wait "$GEOCODER_PID" 2>/dev/null
    say "stopped"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits (10 s at most) until a local server answers at the URL.
answers() {
    "$PY" - "$1" <<'PYEOF'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PYEOF
}

# The local Stripe server (docs/payouts.md) stands in for Stripe: the seed onboards shops on it,
# and its signed webhooks come to this portal's two endpoints. Its accounts live in memory.
STRIPE_LOCAL_PORT="${STRIPE_LOCAL_PORT:-12111}"
export STRIPE_API_BASE="${STRIPE_API_BASE:-http://127.0.0.1:$STRIPE_LOCAL_PORT}"
"$PY" -m portal.payouts.stripe_local --port "$STRIPE_LOCAL_PORT" --balance 5000000 \
    --webhook-url "$PUBLIC_URL/webhooks/stripe" \
    --connect-webhook-url "$PUBLIC_URL/webhooks/stripe/connect" \
    >>"$LOG_DIR/stripe-local.log" 2>&1 &
STRIPE_PID=$!
answers "$STRIPE_API_BASE/_control/faults" \
    || { say "local Stripe server did not start (log $LOG_DIR/stripe-local.log)"; exit 1; }
say "local Stripe server: $STRIPE_API_BASE (pid $STRIPE_PID, log $LOG_DIR/stripe-local.log)"

# The local DoorDash server (docs/deliveries.md) stands in for DoorDash Drive: deliveries the shops
# hand to DoorDash are booked there, and its status webhooks come to /webhooks/doordash with the
# configured Authorization header. Its deliveries live in memory.
DOORDASH_LOCAL_PORT="${DOORDASH_LOCAL_PORT:-12112}"
export DOORDASH_API_BASE="${DOORDASH_API_BASE:-http://127.0.0.1:$DOORDASH_LOCAL_PORT}"
"$PY" -m portal.deliveries.providers.doordash_local --port "$DOORDASH_LOCAL_PORT" \
    --webhook-url "$PUBLIC_URL/webhooks/doordash" \
    >>"$LOG_DIR/doordash-local.log" 2>&1 &
DOORDASH_PID=$!
answers "$DOORDASH_API_BASE/_control/deliveries" \
    || { say "local DoorDash server did not start (log $LOG_DIR/doordash-local.log)"; exit 1; }
say "local DoorDash server: $DOORDASH_API_BASE (pid $DOORDASH_PID, log $LOG_DIR/doordash-local.log)"

# The local geocoder (docs/deliveries.md, "Geocoding") stands in for Nominatim: dropoffs that come
# without a point are looked up there (it knows the demo city's streets).
GEOCODER_LOCAL_PORT="${GEOCODER_LOCAL_PORT:-12113}"
export GEOCODER_URL="${GEOCODER_URL:-http://127.0.0.1:$GEOCODER_LOCAL_PORT}"
"$PY" -m portal.deliveries.geocoder_local --port "$GEOCODER_LOCAL_PORT" \
    >>"$LOG_DIR/geocoder-local.log" 2>&1 &
GEOCODER_PID=$!
answers "$GEOCODER_URL/_control/requests" \
    || { say "local geocoder did not start (log $LOG_DIR/geocoder-local.log)"; exit 1; }
say "local geocoder: $GEOCODER_URL (pid $GEOCODER_PID, log $LOG_DIR/geocoder-local.log)"

say "demo data (flask seed demo)"
"$VENV/bin/flask" --app portal seed demo

WORKER_LOG="$LOG_DIR/worker.log"
"$PY" worker.py >>"$WORKER_LOG" 2>&1 &
WORKER_PID=$!
say "worker: started (pid $WORKER_PID, log $WORKER_LOG)"

say "portal: $SCHEME://127.0.0.1:$PORT (Ctrl+C to stop)"
if [ "$SCHEME" = "https" ]; then
    for address in $(local_addresses); do
        say "portal on the local network: https://$address:$PORT (accept the certificate once)"
    done
fi
# Workers, worker model and the access log: scripts/gunicorn.conf.py (why: docs/performance.md).
"$VENV/bin/gunicorn" -c "$ROOT/scripts/gunicorn.conf.py" -b "0.0.0.0:$PORT" "${TLS_ARGS[@]}" \
    'portal:create_app()' &
GUNICORN_PID=$!
wait "$GUNICORN_PID"
