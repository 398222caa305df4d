# Shared set-up for scripts/run.sh and scripts/test.sh (sourced, not run).
#
# Brings a Debian 12 machine (or this one) to a state where the portal runs: system packages,
# PostgreSQL 15 + PostGIS 3 and Redis answering on 127.0.0.1, the Python venv, the front-end
# assets. Every step is idempotent and quick when there is nothing to do. One line per step;
# the details go to var/log/setup-<script>.log and its tail is shown when a step fails.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export DATABASE_URL="${DATABASE_URL:-postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

VENV="$ROOT/.venv"
PY="$VENV/bin/python"
LOG_DIR="$ROOT/var/log"
SETUP_LOG="$LOG_DIR/setup-$(basename "$0" .sh).log"
PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
mkdir -p "$LOG_DIR"
: >"$SETUP_LOG"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

# --- output ---------------------------------------------------------------------------------

say() { printf '==> %s\n' "$*"; }
warn() { printf '!!  %s\n' "$*" >&2; }
die() {
    printf '!!  %s\n' "$*" >&2
    exit 1
}

# run_logged DESCRIPTION CMD...: one line on screen, the output in the log, its tail on failure.
run_logged() {
    local description="$1"
    shift
    say "$description"
    printf '\n### %s\n$ %s\n' "$description" "$*" >>"$SETUP_LOG"
    if ! "$@" >>"$SETUP_LOG" 2>&1; then
        warn "failed: $description. Last lines of $SETUP_LOG:"
        tail -n 40 "$SETUP_LOG" >&2
        exit 1
    fi
}

# --- probes ---------------------------------------------------------------------------------

has() { command -v "$1" >/dev/null 2>&1; }

deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

port_open() { # host port
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

pg_answering() {
    if has pg_isready; then
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT"
    else
        port_open "$PG_HOST" "$PG_PORT"
    fi
}

redis_answering() {
    if has redis-cli; then
        [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
    else
        port_open "$REDIS_HOST" "$REDIS_PORT"
    fi
}

have_systemd() { [ -d /run/systemd/system ]; }

venv_ok() { [ -x "$PY" ] && "$PY" -c 'import sys' >/dev/null 2>&1; }

venv_works() {
    # Debian's python3 has the venv module but cannot put pip into a venv until python3-venv is
    # installed; trying is the only reliable test (a few seconds, and only before .venv exists).
    local trial ok=0
    trial="$(mktemp -d)"
    python3 -m venv "$trial/venv" >/dev/null 2>&1 || ok=1
    rm -rf "$trial"
    return "$ok"
}

file_hash() { sha256sum "$@" | sha256sum | cut -c1-16; }

# psql against the server as the app connects. DATABASE_URL may be SQLAlchemy's form
# (postgresql+psycopg://) or a provider's (postgres://, postgresql://); libpq gets postgresql://.
libpq_url() {
    local scheme="${1%%://*}"
    scheme="${scheme%%+*}"
    [ "$scheme" = "postgres" ] && scheme="postgresql"
    printf '%s://%s' "$scheme" "${1#*://}"
}
maintenance_url() { # the same server, database "postgres", with the same query (sslmode, ...)
    local url query=""
    url="$(libpq_url "$DATABASE_URL")"
    if [[ "$url" == *\?* ]]; then
        query="?${url#*\?}"
        url="${url%%\?*}"
    fi
    printf '%s/postgres%s' "${url%/*}" "$query"
}
database_name() {
    local name="${DATABASE_URL%%\?*}"
    printf '%s' "${name##*/}"
}

# --- system packages ------------------------------------------------------------------------

# ensure_system_packages [--browser]: install only what is missing, with one apt-get update.
ensure_system_packages() {
    local browser=0
    [ "${1:-}" = "--browser" ] && browser=1
    local wanted=()

    local py_minor
    py_minor="$(python3 -c 'import sys; print(sys.version_info >= (3, 11))' 2>/dev/null || true)"
    [ "$py_minor" = "True" ] || die "Python 3.11 or newer is needed as python3"
    venv_ok || venv_works || wanted+=(python3-venv)

    # PostgreSQL: Debian's server when nothing answers; PostGIS for a local Debian server.
    if ! pg_answering && ! deb_installed postgresql-15; then
        wanted+=(postgresql-15)
    fi
    if ! deb_installed postgresql-15-postgis-3; then
        if ! pg_answering || [ -x /usr/lib/postgresql/15/bin/postgres ] \
            || [[ " ${wanted[*]} " == *" postgresql-15 "* ]]; then
            wanted+=(postgresql-15-postgis-3)
        fi
    fi
    has psql || wanted+=(postgresql-client-15)

    if ! redis_answering && ! has redis-server; then
        wanted+=(redis-server)
    fi
    has redis-cli || wanted+=(redis-tools)

    has npm || wanted+=(nodejs npm)
    # LightGBM's wheel (the catalog matcher) links the system's OpenMP runtime.
    deb_installed libgomp1 || wanted+=(libgomp1)
    # Backups (docs/operations.md); the backup tests run it against a scratch cluster.
    deb_installed pgbackrest || wanted+=(pgbackrest)

    if [ "$browser" = 1 ] && [ ! -x /usr/bin/chromium ]; then
        wanted+=(chromium fonts-liberation)
    fi
    # The test set-up (the only one with --browser) also runs the HTTP benchmarks on a small slice.
    if [ "$browser" = 1 ] && ! has wrk; then
        wanted+=(wrk)
    fi

    apt_install "${wanted[@]}"
}

APT_UPDATED=0
apt_install() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        say "system packages: nothing to install"
        return 0
    fi
    has apt-get || die "missing ${missing[*]} and no apt-get to install them with"
    if [ "$APT_UPDATED" = 0 ]; then
        run_logged "apt-get update" $SUDO apt-get update
        APT_UPDATED=1
    fi
    run_logged "installing ${missing[*]}" \
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${missing[@]}"
}

# --- services -------------------------------------------------------------------------------

wait_for() { # seconds probe
    local seconds="$1"
    shift
    local i
    for ((i = 0; i < seconds * 4; i++)); do
        "$@" && return 0
        sleep 0.25
    done
    return 1
}

start_postgres() {
    if pg_answering; then
        say "PostgreSQL: answering on $PG_HOST:$PG_PORT"
        return 0
    fi
    if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 \+main '; then
        run_logged "PostgreSQL: creating cluster 15/main" $SUDO pg_createcluster 15 main
        # Only a cluster set-up made is set up for backups (configure_backups).
        $SUDO touch "$PG_CREATED_MARKER"
    fi
    run_logged "PostgreSQL: starting" pg_cluster start
    wait_for 30 pg_answering || die "PostgreSQL did not answer on $PG_HOST:$PG_PORT"
}

pg_cluster() { # start|restart: the Debian cluster 15/main, through systemd where it runs
    if have_systemd; then
        $SUDO systemctl "$1" postgresql@15-main
    else
        $SUDO pg_ctlcluster --skip-systemctl-redirect 15 main "$1"
    fi
}

start_redis() {
    if redis_answering; then
        say "Redis: answering on $REDIS_HOST:$REDIS_PORT"
        return 0
    fi
    if have_systemd && systemctl list-unit-files redis-server.service >/dev/null 2>&1; then
        run_logged "Redis: starting (systemd)" $SUDO systemctl start redis-server
    else
        run_logged "Redis: starting" redis-server --daemonize yes --bind "$REDIS_HOST" \
            --port "$REDIS_PORT" --save "" --appendonly no
    fi
    wait_for 15 redis_answering || die "Redis did not answer on $REDIS_HOST:$REDIS_PORT"
}

# The app signs in with a password over TCP. A fresh Debian cluster uses scram there and the
# postgres role has no password; give it the development one, and only when it is needed.
ensure_pg_login() {
    local url
    url="$(maintenance_url)"
    if psql "$url" -Atqc 'SELECT 1' >/dev/null 2>&1; then
        say "PostgreSQL: app login works"
        return 0
    fi
    case "$url" in
        postgresql://postgres:postgres@127.0.0.1:5432/* | postgresql://postgres:postgres@localhost:5432/*) ;;
        *) die "cannot connect to $url (DATABASE_URL); fix the credentials or the server" ;;
    esac
    run_logged "PostgreSQL: setting the postgres role's password" \
        $SUDO runuser -u postgres -- psql -qc "ALTER ROLE postgres PASSWORD 'postgres'"
    psql "$url" -Atqc 'SELECT 1' >/dev/null 2>&1 \
        || die "still cannot connect to $url: check pg_hba.conf"
}

check_postgis() {
    local available
    available="$(psql "$(maintenance_url)" -Atqc \
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'" 2>/dev/null || true)"
    if [ "$available" != "1" ]; then
        die "the PostgreSQL server at $PG_HOST:$PG_PORT has no PostGIS (postgresql-15-postgis-3)"
    fi
}

ensure_database() { # [name]
    local name="${1:-$(database_name)}"
    local exists
    exists="$(psql "$(maintenance_url)" -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = '$name'")"
    if [ "$exists" = "1" ]; then
        say "database $name: exists"
    else
        run_logged "database $name: creating" psql "$(maintenance_url)" -qc "CREATE DATABASE \"$name\""
    fi
}

# --- backups: pgBackRest and WAL archiving, on a cluster set-up created -----------------------

# WAL archiving needs archive_mode=on and a restart, so set-up turns it on only on the cluster it
# created itself (the marker below); on a server it found running the operations page says
# backups are not configured and docs/operations.md says what to change. The repository is a
# plain directory (/var/lib/pgbackrest); BACKUP_S3_ENDPOINT (with BACKUP_S3_BUCKET, _KEY,
# _KEY_SECRET, and optionally _PORT, _REGION, _URI_STYLE, _VERIFY_TLS) renders an S3 one instead.
PG_CONF_DIR=/etc/postgresql/15/main
PG_CREATED_MARKER="$PG_CONF_DIR/portal-created-by-setup"
PGBACKREST_CONF=/etc/pgbackrest/pgbackrest.conf
PGBACKREST_PASS_FILE=/etc/pgbackrest/cipher-pass

configure_backups() {
    if [ ! -f "$PG_CREATED_MARKER" ]; then
        say "backups: not configured here (set-up did not create this server; docs/operations.md)"
        return 0
    fi
    $SUDO mkdir -p /etc/pgbackrest /var/lib/pgbackrest /var/lib/pgbackrest-state
    $SUDO chown postgres:postgres /var/lib/pgbackrest /var/lib/pgbackrest-state
    $SUDO chmod 750 /var/lib/pgbackrest /var/lib/pgbackrest-state
    if ! $SUDO test -s "$PGBACKREST_PASS_FILE"; then
        "$PY" -c 'import secrets; print(secrets.token_urlsafe(48))' \
            | $SUDO install -m 600 /dev/stdin "$PGBACKREST_PASS_FILE"
    fi
    if ! $SUDO test -s "$PGBACKREST_CONF"; then
        local repo=(--repo posix --repo-path /var/lib/pgbackrest)
        if [ -n "${BACKUP_S3_ENDPOINT:-}" ]; then
            repo=(--repo s3 --repo-path /portal --s3-endpoint "$BACKUP_S3_ENDPOINT"
                --s3-bucket "$BACKUP_S3_BUCKET" --s3-key "$BACKUP_S3_KEY"
                --s3-key-secret "$BACKUP_S3_KEY_SECRET" --s3-port "${BACKUP_S3_PORT:-443}"
                --s3-region "${BACKUP_S3_REGION:-us-east-1}"
                --s3-uri-style "${BACKUP_S3_URI_STYLE:-path}"
                --s3-verify-tls "${BACKUP_S3_VERIFY_TLS:-y}")
        fi
        "$PY" -m portal.operations.backups_config "${repo[@]}" \
            --pg-path /var/lib/postgresql/15/main --state-path /var/lib/pgbackrest-state \
            --cipher-pass "$($SUDO cat "$PGBACKREST_PASS_FILE")" \
            | $SUDO install -m 640 -g postgres /dev/stdin "$PGBACKREST_CONF"
        say "backups: pgBackRest configured ($PGBACKREST_CONF, from ops/pgbackrest/)"
    fi
    local archiving="$PG_CONF_DIR/conf.d/90-portal-archiving.conf"
    if [ ! -f "$archiving" ]; then
        printf '%s\n' "# Written by scripts/lib.sh (configure_backups): WAL archiving through pgBackRest." \
            "wal_level = replica" "archive_mode = on" \
            "archive_command = 'pgbackrest --config=$PGBACKREST_CONF --stanza=portal archive-push %p'" \
            | $SUDO install -m 644 -o postgres -g postgres /dev/stdin "$archiving"
    fi
    if [ "$(psql "$(maintenance_url)" -Atqc 'SHOW archive_mode')" != "on" ]; then
        run_logged "PostgreSQL: restarting for WAL archiving" pg_cluster restart
        wait_for 30 pg_answering || die "PostgreSQL did not answer after the restart"
    fi
    run_logged "backups: pgBackRest stanza (stanza-create)" $SUDO runuser -u postgres -- \
        pgbackrest --config="$PGBACKREST_CONF" --stanza=portal stanza-create
}

# --- Python ---------------------------------------------------------------------------------

# ensure_venv [test]: .venv with the project installed (editable), plus the test extra if asked.
# Skipped when a stamp records the same pyproject.toml and at least the extras wanted.
ensure_venv() {
    local extras="${1:-}"
    local stamp="$VENV/.portal-installed"
    local want_hash
    want_hash="$(file_hash pyproject.toml)"

    if ! venv_ok; then
        run_logged "creating the Python venv (.venv)" python3 -m venv --clear "$VENV"
    fi

    if [ -f "$stamp" ]; then
        local have_hash have_extras
        read -r have_hash have_extras <"$stamp" || true
        if [ "$have_hash" = "$want_hash" ] && { [ -z "$extras" ] || [ "${have_extras:-}" = "$extras" ]; } \
            && "$PY" -c 'import portal' >/dev/null 2>&1; then
            say "Python packages: up to date"
            return 0
        fi
        # Keep the test extra once installed, so run and test don't undo each other.
        [ -z "$extras" ] && extras="${have_extras:-}"
    fi

    local target="."
    [ -n "$extras" ] && target=".[$extras]"
    if ! pip_install "$target"; then
        # A dependency without a wheel for this machine needs a compiler: get one, try once more.
        if tail -n 60 "$SETUP_LOG" | grep -qiE "failed (to build|building wheel)|gcc|Python\.h|pg_config"; then
            apt_install build-essential python3-dev libpq-dev
            run_logged "installing Python packages (retry)" "$VENV/bin/pip" install -e "$target"
        else
            warn "failed: pip install -e '$target'. Last lines of $SETUP_LOG:"
            tail -n 40 "$SETUP_LOG" >&2
            exit 1
        fi
    fi
    printf '%s %s\n' "$want_hash" "$extras" >"$stamp"
}

pip_install() {
    say "installing Python packages (pip install -e '$1')"
    printf '\n### pip install -e %s\n' "$1" >>"$SETUP_LOG"
    "$VENV/bin/pip" install -e "$1" >>"$SETUP_LOG" 2>&1
}

# --- front-end assets -------------------------------------------------------------------------

# npm ci from the lockfile, then the dist files into static/vendor/ (gitignored).
ensure_assets() {
    local stamp="$ROOT/node_modules/.portal-installed"
    local want_hash
    want_hash="$(file_hash package.json package-lock.json)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_hash" ]; then
        say "npm packages: up to date"
    else
        run_logged "installing npm packages (npm ci)" \
            npm ci --no-audit --no-fund --loglevel=error
        printf '%s\n' "$want_hash" >"$stamp"
    fi

    # One folder per library; the templates link static/vendor/<library>/<file>.
    local nm="$ROOT/node_modules" vendor="$ROOT/static/vendor"
    rm -rf "$vendor"
    mkdir -p "$vendor/htmx" "$vendor/chart.js" "$vendor/leaflet/images" "$vendor/pico"
    cp "$nm/htmx.org/dist/htmx.min.js" "$vendor/htmx/"
    cp "$nm/chart.js/dist/chart.umd.min.js" "$vendor/chart.js/"
    cp "$nm/leaflet/dist/leaflet.js" "$nm/leaflet/dist/leaflet.css" "$vendor/leaflet/"
    cp "$nm/leaflet/dist/images/"*.png "$vendor/leaflet/images/"
    cp "$nm/@picocss/pico/css/pico.min.css" "$vendor/pico/"
    say "static/vendor: htmx, chart.js, leaflet, pico copied"
}

# --- everything both scripts need -------------------------------------------------------------

# setup_common [--browser] [--test]
setup_common() {
    local browser="" extras=""
    local arg
    for arg in "$@"; do
        case "$arg" in
            --browser) browser="--browser" ;;
            --test) extras="test" ;;
            *) die "setup_common: unknown option $arg" ;;
        esac
    done
    ensure_system_packages $browser
    start_postgres
    start_redis
    ensure_pg_login
    check_postgis
    ensure_venv "$extras"
    configure_backups
    ensure_assets
}

flask_cmd() { # description args...: flask --app portal ARGS, logged
    local description="$1"
    shift
    run_logged "$description" "$VENV/bin/flask" --app portal "$@"
}

# --- HTTPS for trying the driver's phone pages on the local network ---------------------------

# ensure_dev_certificate: a self-signed certificate for this machine (localhost, 127.0.0.1 and
# its addresses on the local network), kept in var/tls/ and made again when the addresses change.
# Browsers allow geolocation only in a secure context, so a phone on the same network needs
# https:// (it will ask to accept the certificate once). Made with openssl, or with Python's
# `cryptography` package (installed with the portal's dependencies) when openssl is missing.
TLS_DIR="$ROOT/var/tls"
TLS_CERT="$TLS_DIR/dev-cert.pem"
TLS_KEY="$TLS_DIR/dev-key.pem"
local_addresses() {
    { hostname -I 2>/dev/null || true; } | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' || true
}
ensure_dev_certificate() {
    mkdir -p "$TLS_DIR"
    chmod 700 "$TLS_DIR"
    local names="DNS:localhost,IP:127.0.0.1" address
    for address in $(local_addresses); do
        names="$names,IP:$address"
    done
    if [ -s "$TLS_CERT" ] && [ -s "$TLS_KEY" ] && [ "$(cat "$TLS_DIR/names" 2>/dev/null)" = "$names" ]; then
        say "https: certificate $TLS_CERT (for $names)"
        return 0
    fi
    if has openssl; then
        run_logged "https: self-signed certificate (openssl)" openssl req -x509 -newkey rsa:2048 \
            -nodes -days 365 -subj "/CN=Marketplace Portal development" \
            -addext "subjectAltName=$names" -keyout "$TLS_KEY" -out "$TLS_CERT"
    else
        run_logged "https: self-signed certificate (cryptography)" "$PY" - "$TLS_CERT" "$TLS_KEY" "$names" <<'PYEOF'
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

cert_path, key_path, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Marketplace Portal development")])
alt = [x509.DNSName(n[4:]) if n.startswith("DNS:") else x509.IPAddress(ipaddress.ip_address(n[3:]))
       for n in names]
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
open(key_path, "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
open(cert_path, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
PYEOF
    fi
    chmod 600 "$TLS_KEY"
    printf '%s' "$names" >"$TLS_DIR/names"
}
