"""How a school's administration software publishes enrolments to IRIS with kafka-python.

Copy this into your own system. Each message is one event on the topic
`iris.enrolment.submitted`, keyed by the pupil's INSZ, and carries your school
software client's token in the `authorization` header. The token names your
school; IRIS rejects (to `iris.enrolment.rejected`, with the reason) any event
for another school, with a missing or expired token, or that fails validation.
Validate before you publish with the JSON Schemas in `schemas/`
(EnrolmentRegistered.v1.json, EnrolmentEnded.v1.json).

Get a token from the access service's token endpoint with the client id and
secret your school responsible registered for you:

    curl -s -d grant_type=client_credentials -d client_id=ID -d client_secret=SECRET \\
         http://127.0.0.1:8103/v1/token

With the local stack (`iris dev`) you can also mint one for a try-out:

    IRIS_TOKEN=$(iris token --sub client:123456 --school-client 123456)
    python examples/school_system.py --school 123456 --pupil 12030401768 --start 2026-09-01

Tokens are short-lived: fetch a new one before it expires, not per message.

A production broker asks for TLS and SASL: the same variables as IRIS's own clients
(`IRIS_KAFKA_SECURITY_PROTOCOL` such as SASL_SSL, `IRIS_KAFKA_SASL_MECHANISM` such as
SCRAM-SHA-512, `IRIS_KAFKA_SASL_USERNAME`, `IRIS_KAFKA_SASL_PASSWORD`,
`IRIS_KAFKA_SSL_CAFILE`) with the credentials your operator gave your school software.
The listener of the Compose deployment for school systems takes SASL_SSL with PLAIN:
`IRIS_KAFKA_SECURITY_PROTOCOL=SASL_SSL IRIS_KAFKA_SASL_MECHANISM=PLAIN`, and
`--bootstrap kafka.example:9094`.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from datetime import UTC, datetime

from kafka import KafkaProducer

TOPIC = "iris.enrolment.submitted"


def enrolment_registered(
    pupil_id: str,
    school_id: str,
    start_date: str,
    end_date: str | None = None,
    display_name: str | None = None,
) -> dict:
    """The event for a new or restated enrolment. Dates are ISO `YYYY-MM-DD`."""
    event = {
        "type": "EnrolmentRegistered",
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),  # keep it when you retry: a redelivery is then harmless
        "occurred_at": datetime.now(UTC).isoformat(),
        "pupil_id": pupil_id,
        "school_id": school_id,
        "start_date": start_date,
        "source": "example-school-system",
    }
    if end_date:
        event["end_date"] = end_date
    if display_name:
        event["display_name"] = display_name
    return event


def enrolment_ended(pupil_id: str, school_id: str, end_date: str) -> dict:
    """The event for a pupil who leaves the school on `end_date` (last day enrolled)."""
    return {
        "type": "EnrolmentEnded",
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "pupil_id": pupil_id,
        "school_id": school_id,
        "end_date": end_date,
        "source": "example-school-system",
    }


def publish(producer: KafkaProducer, token: str, event: dict) -> None:
    future = producer.send(
        TOPIC,
        key=event["pupil_id"].encode(),
        value=json.dumps(event).encode(),
        headers=[("authorization", f"Bearer {token}".encode())],
    )
    future.get(timeout=30)  # raises if the broker did not take it: retry with the same event


def connection(bootstrap: str) -> dict:
    """kafka-python's connection settings, from the environment (see the module's header)."""
    protocol = os.environ.get("IRIS_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    options: dict = {"bootstrap_servers": bootstrap, "security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL") and os.environ.get("IRIS_KAFKA_SSL_CAFILE"):
        options["ssl_cafile"] = os.environ["IRIS_KAFKA_SSL_CAFILE"]
    if protocol.startswith("SASL"):
        options["sasl_mechanism"] = os.environ.get("IRIS_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
        options["sasl_plain_username"] = os.environ.get("IRIS_KAFKA_SASL_USERNAME")
        options["sasl_plain_password"] = os.environ.get("IRIS_KAFKA_SASL_PASSWORD")
    return options


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bootstrap", default=os.environ.get("IRIS_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("IRIS_TOKEN"),
        help="the school client's bearer token (or $IRIS_TOKEN)",
    )
    parser.add_argument("--school", required=True)
    parser.add_argument("--pupil", required=True, help="the pupil's INSZ")
    parser.add_argument("--start", help="start date YYYY-MM-DD (registers the enrolment)")
    parser.add_argument("--end", help="end date YYYY-MM-DD (ends it when given alone)")
    parser.add_argument("--name", help="the pupil's name as your software shows it")
    args = parser.parse_args()
    if not args.token:
        parser.error("a token is needed: --token or $IRIS_TOKEN")

    producer = KafkaProducer(**connection(args.bootstrap), acks="all", retries=5)
    if args.start:
        event = enrolment_registered(args.pupil, args.school, args.start, args.end, args.name)
    elif args.end:
        event = enrolment_ended(args.pupil, args.school, args.end)
    else:
        parser.error("give --start (register) or --end (end an enrolment)")
    publish(producer, args.token, event)
    producer.flush()
    print(f"published {event['type']} {event['event_id']}")


if __name__ == "__main__":
    main()
