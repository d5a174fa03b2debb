"""The broker ACLs of a production Kafka: each principal may do only what its service needs.

One principal per service (its SASL user name is the service's name) and one for school
software (`school`). From the topic registry (`iris.contracts.TOPICS`): the owner of a
topic writes it, its readers read it, and a faust worker owns the consumer group and the
internal topics named after its app id. `iris kafka-acls` prints the plan as
`kafka-acls.sh` lines for an operator; `iris stage` applies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from iris.contracts import TOPICS, Topic

SCHOOL_SOFTWARE = "school"
WORKER_APPS = {"enrolment": "iris-enrolment", "access": "iris-access", "viewer": "iris-viewer"}


@dataclass(frozen=True)
class Rule:
    principal: str  # a SASL user name
    resource: str  # TOPIC or GROUP
    name: str
    prefixed: bool
    operation: str  # READ, WRITE, DESCRIBE, ALL

    def kafka_acls_line(self, bootstrap: str = "$BOOTSTRAP") -> str:
        kind = "--topic" if self.resource == "TOPIC" else "--group"
        pattern = " --resource-pattern-type prefixed" if self.prefixed else ""
        return (
            f"kafka-acls.sh --bootstrap-server {bootstrap} --command-config admin.properties "
            f"--add --allow-principal User:{self.principal} --operation {self.operation} "
            f"{kind} {self.name}{pattern}"
        )


def writer(topic: Topic) -> str:
    return SCHOOL_SOFTWARE if topic.owner == "school software" else topic.owner


def plan(topics: Iterable[Topic] = TOPICS) -> list[Rule]:
    rules: list[Rule] = []
    for topic in topics:
        for operation in ("WRITE", "DESCRIBE"):
            rules.append(Rule(writer(topic), "TOPIC", topic.name, False, operation))
        for reader in topic.readers:
            for operation in ("READ", "DESCRIBE"):
                rules.append(Rule(reader, "TOPIC", topic.name, False, operation))
    for service, app_id in WORKER_APPS.items():
        rules.append(Rule(service, "GROUP", app_id, True, "ALL"))
        rules.append(Rule(service, "TOPIC", app_id, True, "ALL"))  # faust's own topics
    return rules


def principals(rules: Iterable[Rule]) -> list[str]:
    return sorted({rule.principal for rule in rules})


def apply(admin: object, rules: Iterable[Rule]) -> None:
    """Create the rules with a kafka-python `KafkaAdminClient` logged in as a super user."""
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourceType,
    )

    literal, prefixed = ACLResourcePatternType.LITERAL, ACLResourcePatternType.PREFIXED
    acls = [
        ACL(
            principal=f"User:{rule.principal}",
            host="*",
            operation=ACLOperation[rule.operation],
            permission_type=ACLPermissionType.ALLOW,
            resource_pattern=ResourcePattern(
                ResourceType[rule.resource],
                rule.name,
                prefixed if rule.prefixed else literal,
            ),
        )
        for rule in rules
    ]
    result = admin.create_acls(acls)  # type: ignore[attr-defined]
    failed = result.get("failed") or []
    if failed:
        raise RuntimeError(f"the broker refused ACLs: {failed}")
