"""A scratch PostgreSQL cluster of the tests' own, backed up by a real pgBackRest to the local
S3-compatible server (``portal.operations.s3_local``) over TLS, and an app that uses it.

The machine's shared server is never reconfigured or restarted: the scratch primary is made
with ``initdb`` in a temporary folder, on a free port of 127.0.0.1, archiving its WAL through
pgBackRest; ``initdb``, ``pg_ctl`` and pgBackRest run as the ``postgres`` user (they refuse root).
One cluster, one repository and one full backup serve every test in this folder (``app`` here is
that scratch cluster's app: ``mailbox`` and the other fixtures follow it).
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from portal import create_app
from portal.config import TestConfig
from portal.extensions import db
from portal.operations.backups import run_backup
from portal.operations.backups_cluster import LocalInstance, give_to, run
from portal.operations.backups_config import render
from portal.operations.s3_local import serve
from portal.orders import numbers
from portal.orders.models import Order
from portal.queues import get_redis
from portal.vendors.models import Vendor
from tests.conftest import CsrfClient, migrate_to_head
from tests.factories import make_admin
from tests.mailbox import mailbox  # noqa: F401  (fixture)

RUN_AS = "postgres"
BINDIR = Path("/usr/lib/postgresql/15/bin")
STANZA = "portal"
DATABASE = "portal"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


primary_port = free_port()


@pytest.fixture(scope="session")
def s3_port():
    server = serve("127.0.0.1", 0, bucket="portal-backups")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()


@pytest.fixture(scope="session")
def scratch_root():
    root = Path(tempfile.mkdtemp(prefix="portal-backup-tests-"))
    give_to(root, RUN_AS)
    root.chmod(0o755)  # the test process (root) and postgres both work in here
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pgbackrest_config(scratch_root, s3_port) -> Path:
    state = scratch_root / "pgbackrest"
    state.mkdir()
    give_to(state, RUN_AS)
    path = scratch_root / "pgbackrest.conf"
    path.write_text(
        render(
            "s3",
            STANZA=STANZA,
            REPO_PATH="/portal",
            S3_BUCKET="portal-backups",
            S3_ENDPOINT="127.0.0.1",
            S3_PORT=s3_port,
            S3_KEY="local-key",
            S3_KEY_SECRET="local-secret",
            S3_VERIFY_TLS="n",
            CIPHER_PASS="test-repository-passphrase",
            ARCHIVE_TIMEOUT=30,
            STATE_PATH=state,
            PG_PATH=scratch_root / "primary" / "data",
            PG_PORT=primary_port,
            PG_SOCKET=scratch_root / "primary",
        )
    )
    path.chmod(0o644)
    return path


@pytest.fixture(scope="session")
def primary(scratch_root, pgbackrest_config):
    folder = scratch_root / "primary"
    folder.mkdir()
    give_to(folder, RUN_AS)
    instance = LocalInstance(folder / "data", primary_port, RUN_AS, BINDIR)
    instance.initdb()
    archive = f"pgbackrest --config={pgbackrest_config} --stanza={STANZA} archive-push %p"
    with (instance.data_dir / "postgresql.conf").open("a") as conf:
        conf.write(
            "\n# the backup tests' scratch primary\n"
            "wal_level = replica\narchive_mode = on\n"
            f"archive_command = '{archive}'\n"
            "max_wal_senders = 4\nfsync = off\nsynchronous_commit = off\n"
            "full_page_writes = on\n"
        )
    instance.start()
    try:
        with psycopg.connect(instance.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
        run(
            ["pgbackrest", f"--config={pgbackrest_config}", f"--stanza={STANZA}", "stanza-create"],
            RUN_AS,
            120,
        )
        yield instance
    finally:
        instance.stop()


def scratch_config(primary, **settings) -> type:
    """The test configuration, on the scratch primary's database."""
    return type(
        "ScratchConfig",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{primary.port}/"
            f"{DATABASE}",
            "SQLALCHEMY_BINDS": {},
            "RQ_KEY_PREFIX": "portal-test-backups",
            **settings,
        },
    )


@pytest.fixture(scope="session")
def app(primary, pgbackrest_config, scratch_root):
    restores = scratch_root / "restores"
    restores.mkdir()
    config = scratch_config(
        primary,
        BACKUP_PGBACKREST_CONFIG=str(pgbackrest_config),
        BACKUP_STANZA=STANZA,
        BACKUP_RUN_AS=RUN_AS,
        BACKUP_SCRATCH_DIR=str(restores),
        BACKUP_SCRATCH_PORT=free_port(),
        BACKUP_RESTORE_START_SECONDS=90,
        BACKUP_COMMAND_TIMEOUT_SECONDS=180,
    )
    app = create_app(config)
    app.test_client_class = CsrfClient
    migrate_to_head(app)
    with app.app_context():  # alert markers and queued mail of an earlier run (same Redis db)
        redis = get_redis(app)
        for key in redis.scan_iter(f"{app.config['RQ_KEY_PREFIX']}*"):
            redis.delete(key)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def replica(app, primary, scratch_root):
    """A streaming replica of the scratch primary (pg_basebackup), on a port of its own."""
    folder = scratch_root / "replica"
    folder.mkdir()
    give_to(folder, RUN_AS)
    instance = LocalInstance(folder / "data", free_port(), RUN_AS, BINDIR)
    run(
        [
            str(BINDIR / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(instance.data_dir),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        ],
        RUN_AS,
        120,
    )
    instance.start({"hot_standby": "on"})
    try:
        yield instance
    finally:
        instance.stop()


ORDER_TOTALS = (Decimal("10.00"), Decimal("20.50"), Decimal("0.05"))


def add_orders(totals, shop="Backup Shop") -> None:
    vendor = Vendor(name=shop, slug=f"backup-shop-{uuid.uuid4().hex[:8]}")
    db.session.add(vendor)
    db.session.flush()
    for total in totals:
        db.session.add(
            Order(
                checkout_id=uuid.uuid4(),
                vendor=vendor,
                number=numbers.next_number(vendor.id),
                subtotal=total,
                total=total,
            )
        )
    db.session.commit()


@pytest.fixture(scope="session")
def full_backup(app):
    """The session's one full backup, of three orders worth 30.55 (and its reference)."""
    with app.app_context():
        make_admin("backups-admin@example.com")
        add_orders(ORDER_TOTALS)
        record = run_backup("full")
        assert record is not None
        assert record.outcome == "succeeded", record.detail
        return record.id


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield db.session
        db.session.rollback()
