"""A deployment's parts run as local processes, each with exactly the environment and the
secret files its deployment description gives it (docker-compose.yml, or the Deployments and
Jobs the Helm chart renders).

What a container platform would provide is emulated, and nothing else is changed:
- names of other parts (`access:8103`, `iris-reports:8102`, `kafka:9092`) resolve to local
  addresses, as the platform's DNS would; every value is rewritten the same way;
- each part's secrets are files in a folder of its own, mounted where the description says
  (/run/secrets), and its writable /var/lib/iris is a folder of its own;
- each part listens on a free local port instead of its container port (`--port 8101`,
  `IRIS_WORKER_METRICS_PORT=9100`, the health URL on it), as a container has its own
  network namespace;
- the process gets no other variable than PATH and HOME;
- `IRIS_KAFKA_IDEMPOTENCE` is false: the tests' Kafka-protocol broker (Tansu) does not
  grant producer ids, which the deployments' Apache Kafka does (`BROKER_LIMITS`).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support import wait_until

SECRETS_MOUNT = "/run/secrets"
BROKER_LIMITS = {"IRIS_KAFKA_IDEMPOTENCE": "false"}
DATA_DIR = "/var/lib/iris"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Part:
    """One container: its command (after the `iris` entry point), environment and secrets."""

    name: str
    args: list[str]
    env: dict[str, str]
    secrets: dict[str, str] = field(default_factory=dict)  # file name -> content
    port: int | None = None  # the container port it listens on, if any

    @property
    def is_api(self) -> bool:
        return self.args[:1] == ["api"]


class LocalStack:
    def __init__(self, folder: Path, addresses: dict[str, str]) -> None:
        self.folder = folder
        self.addresses = dict(addresses)  # "name:port" -> "127.0.0.1:port"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.local_ports: dict[str, int] = {}
        self._stack = contextlib.ExitStack()

    def expose(self, address: str) -> str:
        """Give `name:port` a local address (call before parts that reach it start)."""
        self.addresses.setdefault(address, f"127.0.0.1:{free_port()}")
        return self.addresses[address]

    def localise(self, text: str) -> str:
        for name, local in self.addresses.items():
            text = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w])", local, text)
        return text

    def _prepare(self, part: Part, local_port: int | None) -> tuple[list[str], dict[str, str]]:
        home = self.folder / part.name
        secrets, data = home / "secrets", home / "data"
        secrets.mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        for name, content in part.secrets.items():
            path = secrets / name
            path.write_text(self.localise(content))
            path.chmod(0o400)

        def value(text: str) -> str:
            text = self.localise(text)
            if part.port and local_port:
                text = text.replace(f"127.0.0.1:{part.port}", f"127.0.0.1:{local_port}")
            return text.replace(SECRETS_MOUNT, str(secrets)).replace(DATA_DIR, str(data))

        env = {k: value(v) for k, v in part.env.items()}
        env |= {k: v for k, v in BROKER_LIMITS.items() if k in env}
        if part.port and local_port and env.get("IRIS_WORKER_METRICS_PORT") == str(part.port):
            env["IRIS_WORKER_METRICS_PORT"] = str(local_port)
        args = [value(a) for a in part.args]
        if "--port" in args and local_port:
            args[args.index("--port") + 1] = str(local_port)
        if "--host" in args:
            args[args.index("--host") + 1] = "127.0.0.1"
        base = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
        return args, base | env

    def run(self, part: Part, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """A one-shot job, or an operator's command in a part's container."""
        args, env = self._prepare(part, self.local_ports.get(part.name))
        return subprocess.run(
            [sys.executable, "-m", "iris.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, part: Part) -> str:
        """Start a long-running part; its local base URL (API or metrics port)."""
        assert part.port, part.name
        local = part.port
        if part.is_api:
            host = self.expose(f"{part.name}:{part.port}")
            local = int(host.rsplit(":", 1)[1])
        else:
            local = free_port()
        self.local_ports[part.name] = local
        args, env = self._prepare(part, local)
        log = (self.folder / f"{part.name}.log").open("ab")
        self._stack.callback(log.close)
        process = subprocess.Popen(
            [sys.executable, "-m", "iris.cli", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[part.name] = process
        self._stack.callback(_stop, process)
        return f"http://127.0.0.1:{local}"

    def wait_ready(self, name: str, timeout: float = 120) -> None:
        url = f"http://127.0.0.1:{self.local_ports[name]}"

        def ready() -> bool:
            if self.processes[name].poll() is not None:
                raise AssertionError(f"{name} exited: {self.log(name)[-3000:]}")
            try:
                healthy = httpx.get(f"{url}/healthz", timeout=2).status_code == 200
                return healthy and httpx.get(f"{url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=timeout, interval=0.5, message=f"{name} to be ready")

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        self._stack.close()

    @contextlib.contextmanager
    def running(self) -> Iterator[LocalStack]:
        try:
            yield self
        finally:
            self.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
