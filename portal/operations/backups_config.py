"""pgBackRest's configuration, rendered from the project's templates in ``ops/pgbackrest/``.

    python -m portal.operations.backups_config --repo posix --repo-path /var/lib/pgbackrest \\
        --pg-path /var/lib/postgresql/15/main --cipher-pass "$(cat /etc/portal/backup-pass)"

Set-up (``scripts/lib.sh``) renders ``/etc/pgbackrest/pgbackrest.conf`` with it for a cluster it
created; the backup tests render one for their scratch cluster. Nothing here needs the app.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from string import Template

TEMPLATES = Path(__file__).resolve().parents[2] / "ops" / "pgbackrest"
REPOSITORIES = ("s3", "posix")

DEFAULTS = {
    "STANZA": "portal",
    "RETENTION_FULL": "2",
    "PROCESS_MAX": "2",
    "ARCHIVE_TIMEOUT": "60",
    "STATE_PATH": "/var/lib/pgbackrest-state",
    "PG_PORT": "5432",
    "PG_SOCKET": "/var/run/postgresql",
    "REPO_PATH": "/var/lib/pgbackrest",
    "S3_REGION": "us-east-1",
    "S3_PORT": "443",
    "S3_URI_STYLE": "path",
    "S3_VERIFY_TLS": "y",
}


def render(repository: str, **values: str) -> str:
    """The whole configuration file; a placeholder left without a value raises ``KeyError``."""
    if repository not in REPOSITORIES:
        raise ValueError(f"repository must be one of {REPOSITORIES}, not {repository!r}")
    filled = {**DEFAULTS, **{key: str(value) for key, value in values.items()}}
    repo_text = (TEMPLATES / f"repo-{repository}.conf").read_text()
    filled["REPOSITORY"] = Template(repo_text).substitute(filled).strip()
    return Template((TEMPLATES / "pgbackrest.conf").read_text()).substitute(filled)


def _option_name(key: str) -> str:
    return "--" + key.lower().replace("_", "-")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render pgBackRest's configuration.")
    parser.add_argument("--repo", choices=REPOSITORIES, default="posix")
    keys = sorted(
        {*DEFAULTS, "PG_PATH", "CIPHER_PASS", "S3_BUCKET", "S3_ENDPOINT", "S3_KEY", "S3_KEY_SECRET"}
    )
    for key in keys:
        parser.add_argument(_option_name(key), dest=key)
    args = parser.parse_args(argv)
    values = {key: getattr(args, key) for key in keys if getattr(args, key) is not None}
    try:
        sys.stdout.write(render(args.repo, **values))
    except KeyError as missing:
        parser.error(f"{_option_name(missing.args[0])} is needed for this repository")


if __name__ == "__main__":
    main()
