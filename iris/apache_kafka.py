"""Apache Kafka brokers on loopback, from the artefacts Maven fetched into `.kafka/libs`
(`scripts/kafka-broker.sh`, from `deploy/kafka-broker/pom.xml`), run with the machine's Java.

One broker in KRaft combined mode serves `iris dev`; `iris stage` runs three, with
SASL/SCRAM and ACLs (`iris.stage`). Each node is a broker and a controller.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from iris.infra import LocalProcess, free_port, wait_for_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
JAAS_SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"
JAAS_PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
LOG4J = """log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
"""


def libs_dir() -> Path:
    return Path(os.environ.get("IRIS_KAFKA_LIBS") or PROJECT_ROOT / ".kafka" / "libs")


def java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def installed() -> bool:
    """True when Java and the broker's artefacts are here (`scripts/kafka-broker.sh`)."""
    return java() is not None and any(libs_dir().glob("kafka_2.13-*.jar"))


def new_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass(frozen=True)
class Sasl:
    """SCRAM users of the client listener; `broker` and `controller` speak between nodes."""

    users: dict[str, str]  # name -> password
    super_users: tuple[str, ...] = ("admin",)
    mechanism: str = "SCRAM-SHA-512"

    def jaas(self, name: str) -> str:
        return f'{JAAS_SCRAM} required username="{name}" password="{self.users[name]}";'


@dataclass
class Node:
    node_id: int
    port: int
    controller_port: int
    directory: Path
    process: LocalProcess | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def _common_properties(node: Node, voters: str, replicas: int) -> dict[str, str]:
    return {
        "process.roles": "broker,controller",
        "node.id": str(node.node_id),
        "controller.quorum.voters": voters,
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "CLIENT",
        "log.dirs": str(node.directory / "data"),
        "num.partitions": "3",
        "default.replication.factor": str(replicas),
        "min.insync.replicas": str(min(2, replicas)),
        "offsets.topic.replication.factor": str(replicas),
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": str(replicas),
        "transaction.state.log.min.isr": str(min(2, replicas)),
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "unclean.leader.election.enable": "false",
        "log.flush.interval.ms": "1000",
    }


def _listener_properties(node: Node, sasl: Sasl | None) -> dict[str, str]:
    listeners = {
        "listeners": f"CLIENT://{node.address},CONTROLLER://127.0.0.1:{node.controller_port}",
        "advertised.listeners": f"CLIENT://{node.address}",
    }
    if sasl is None:
        plaintext = "CLIENT:PLAINTEXT,CONTROLLER:PLAINTEXT"
        return {**listeners, "listener.security.protocol.map": plaintext}
    controller_secret = sasl.users["controller"]
    plain = (
        f'{JAAS_PLAIN} required username="controller" password="{controller_secret}" '
        f'user_controller="{controller_secret}";'
    )
    mechanism = sasl.mechanism.lower()
    return {
        **listeners,
        "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": sasl.mechanism,
        "sasl.mechanism.inter.broker.protocol": sasl.mechanism,
        f"listener.name.client.{mechanism}.sasl.jaas.config": sasl.jaas("broker"),
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": plain,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": ";".join(
            f"User:{name}" for name in ("broker", "controller", *sasl.super_users)
        ),
    }


@dataclass
class ApacheKafka:
    """A KRaft cluster of `size` combined nodes on loopback ports."""

    directory: Path
    size: int = 1
    sasl: Sasl | None = None
    ports: list[int] | None = None  # client ports; free ones when unset
    heap: str = "512m"
    keep: bool = False  # reuse the nodes' data from an earlier start (`iris dev`)
    nodes: list[Node] = field(default_factory=list)

    @property
    def bootstrap(self) -> str:
        return ",".join(node.address for node in self.nodes)

    def start(self, timeout: float = 90.0) -> None:
        if not installed():
            raise RuntimeError(
                f"Apache Kafka is not installed in {libs_dir()} (run scripts/kafka-broker.sh)"
            )
        ports = self.ports or [free_port() for _ in range(self.size)]
        self.nodes = [
            Node(i + 1, ports[i], free_port(), self.directory / f"node-{i + 1}")
            for i in range(self.size)
        ]
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        cluster_id = new_cluster_id()
        for node in self.nodes:
            self._configure(node, voters)
        formatting = [
            self._format(node, cluster_id) for node in self.nodes if not self._formatted(node)
        ]
        for process in formatting:
            _, errors = process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"formatting a Kafka node failed: {errors[-2000:]}")
        for node in self.nodes:
            node.process = self._launch(node)
        for node in self.nodes:
            assert node.process is not None
            wait_for_port("127.0.0.1", node.port, timeout, node.process.process)

    def _formatted(self, node: Node) -> bool:
        return (node.directory / "data" / "meta.properties").exists()

    def _configure(self, node: Node, voters: str) -> None:
        if node.directory.exists() and not (self.keep and self._formatted(node)):
            shutil.rmtree(node.directory)
        node.directory.mkdir(parents=True, exist_ok=True)
        properties = {
            **_common_properties(node, voters, min(3, self.size)),
            **_listener_properties(node, self.sasl),
        }
        (node.directory / "server.properties").write_text(
            "".join(f"{key}={value}\n" for key, value in properties.items())
        )
        (node.directory / "log4j.properties").write_text(LOG4J)

    def _java(self, node: Node, main: str, *args: str) -> list[str]:
        runtime = java()
        assert runtime is not None
        return [
            runtime,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{node.directory / 'log4j.properties'}",
            "-cp",
            str(libs_dir() / "*"),
            main,
            *args,
        ]

    def _format(self, node: Node, cluster_id: str) -> subprocess.Popen[str]:
        config = str(node.directory / "server.properties")
        args = ["format", f"--cluster-id={cluster_id}", "-c", config]  # an id may start with "-"
        if self.sasl is not None:
            for name, password in self.sasl.users.items():
                if name != "controller":
                    credential = f"{self.sasl.mechanism}=[name={name},password={password}]"
                    args += ["--add-scram", credential]
        return subprocess.Popen(  # noqa: S603
            self._java(node, "kafka.tools.StorageTool", *args),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _launch(self, node: Node) -> LocalProcess:
        log_path = node.directory / "broker.log"
        process = subprocess.Popen(  # noqa: S603
            self._java(node, "kafka.Kafka", str(node.directory / "server.properties")),
            stdout=log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return LocalProcess(f"kafka-{node.node_id}", process, node.address, log_path)

    def kill(self, node_id: int) -> None:
        """SIGKILL one node, as a crash would."""
        node = self.nodes[node_id - 1]
        if node.process is not None and node.process.process.poll() is None:
            node.process.process.send_signal(signal.SIGKILL)
            node.process.process.wait()

    def restart(self, node_id: int, timeout: float = 60.0) -> None:
        node = self.nodes[node_id - 1]
        node.process = self._launch(node)
        wait_for_port("127.0.0.1", node.port, timeout, node.process.process)

    def stop(self, timeout: float = 20.0) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.process.poll() is None:
                node.process.process.terminate()
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            if node.process is not None:
                node.process.stop(max(0.5, deadline - time.monotonic()))

    def processes(self) -> Iterable[LocalProcess]:
        return [node.process for node in self.nodes if node.process is not None]
