"""`ServerProcess`: `movierec serve` as a child process on 127.0.0.1, for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """Start `movierec serve MODEL_DIR` and wait until /api/health answers.

    `kill()` sends SIGKILL (a crash, no shutdown code runs); `stop()` a polite SIGTERM.
    `options` are more `movierec serve` options, e.g. ["--allowed-host", "example.org"].
    """

    def __init__(self, model_dir: Path, database_url: str, *, port: int | None = None,
                 api_key: str | None = None, log_path: Path | None = None,
                 options: Sequence[str] = ()) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-c", "from movierec.cli.app import main; main()", "serve",
                     str(model_dir), "--host", "127.0.0.1", "--port", str(self.port),
                     "--db", database_url]
        if api_key:
            self.args += ["--api-key", api_key]
        self.args += list(options)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ServerProcess:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode} during start-up"
                                   f"{f'; see {self.log_path}' if self.log_path else ''}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise TimeoutError(f"server did not answer on {self.url} within {timeout:.0f} s")

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
