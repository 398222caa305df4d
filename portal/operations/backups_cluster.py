"""Running pgBackRest and PostgreSQL's own programs, and PostgreSQL instances the portal starts.

``initdb``, ``pg_ctl`` and pgBackRest refuse to run as root and must run as the cluster's owner:
a process running as root (CI, a root cron) runs them through ``runuser -u <owner>``; one running
as the owner already runs them directly.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class CommandFailed(RuntimeError):
    """A program exited non-zero (or ran out of time); the message ends with its stderr's tail."""

    def __init__(self, command: list[str], returncode: int | None, output: str):
        self.command = command
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-15:])
        status = "timed out" if returncode is None else f"exit {returncode}"
        super().__init__(f"{Path(command[0]).name} {' '.join(command[1:3])} ({status}): {tail}")


def as_user(command: list[str], run_as: str | None) -> list[str]:
    """``command``, run as ``run_as`` when this process is root (and as itself otherwise)."""
    if run_as and run_as != "root" and os.geteuid() == 0:
        return ["runuser", "-u", run_as, "--", *command]
    return command


def run(command: list[str], run_as: str | None, timeout: float) -> str:
    """Run to the end; return stdout, raise :class:`CommandFailed` with stderr otherwise."""
    full = as_user(command, run_as)
    try:
        done = subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as expired:
        raise CommandFailed(command, None, str(expired.stderr or "")) from None
    if done.returncode != 0:
        raise CommandFailed(command, done.returncode, done.stderr or done.stdout)
    return done.stdout


def give_to(path: Path, user: str | None) -> None:
    """Make ``path`` (a folder this process made) belong to ``user``, as PostgreSQL insists."""
    path.chmod(0o700)
    if user and os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        shutil.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class LocalInstance:
    """A PostgreSQL instance on 127.0.0.1 whose data folder this process manages.

    The restore test and point-in-time recovery start a restored copy this way; the backup tests
    also make their scratch primary and replica with it. Its Unix socket lives in the folder
    above the data folder, so nothing touches the machine's own server.
    """

    data_dir: Path
    port: int
    run_as: str | None
    bindir: Path
    timeout: float = 120

    @property
    def socket_dir(self) -> Path:
        return self.data_dir.parent

    def _bin(self, name: str) -> str:
        found = self.bindir / name
        return str(found) if found.exists() else name

    def initdb(self) -> None:
        run(
            [
                self._bin("initdb"),
                "-D",
                str(self.data_dir),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            self.run_as,
            self.timeout,
        )

    def start(self, settings: dict[str, str] | None = None) -> None:
        """Start it with ``settings`` given on the command line (they win over every file)."""
        options = {
            "port": str(self.port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.socket_dir),
            **(settings or {}),
        }
        line = " ".join(f"-c {key}={_quoted(value)}" for key, value in options.items())
        run(
            [
                self._bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                line,
                "-w",
                "-t",
                str(int(self.timeout)),
                "start",
            ],
            self.run_as,
            self.timeout + 10,
        )

    @property
    def log_file(self) -> Path:
        return self.socket_dir / f"postgres-{self.port}.log"

    def stop(self) -> None:
        if not (self.data_dir / "postmaster.pid").exists():
            return
        run(
            [self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
            self.run_as,
            self.timeout,
        )

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text().splitlines()[-lines:])
        except OSError:
            return ""


def _quoted(value: str) -> str:
    # pg_ctl hands -o to the server through a shell: quote each value once.
    return "'" + value.replace("'", "'\\''") + "'"


def wait_until(probe, seconds: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(interval)
    return bool(probe())
