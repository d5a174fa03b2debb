"""Revoke-to-deny split into its hops, from wall-clock stamps taken along the way:

- `answer_to_produce_ms`: the revoke call's answer (its transaction committed) to the
  timestamp the relay's producer gave the change (outbox pick-up and send);
- `produce_to_topic_ms`: that timestamp to the bench's own consumer receiving the change
  (the broker, and the consumer's fetch wait);
- `topic_to_deny_ms`: the change received to the first denied check (the viewer worker's
  fetch and fold, and the check's polling; the worker fetches the change independently, so
  this hop also absorbs any difference between the two consumers).

Stamps from several processes on one machine share its wall clock; a hop may come out
slightly negative where two stamps are within the clocks' resolution."""

from __future__ import annotations

from typing import Any

HOPS = (
    "answer_to_produce (commit to the relay's send), produce_to_topic (broker), "
    "topic_to_deny (viewer fetch, fold and check), from wall-clock stamps"
)


def revoke_hops(
    answered: dict[str, float],
    produced: dict[str, float],
    received: dict[str, float],
    denied: dict[str, float],
) -> dict[str, list[float]]:
    """Per grant id, each hop in ms (wall-clock seconds in, `time.time()`), for the
    revocations that every stamp saw."""
    hops: dict[str, list[float]] = {
        "answer_to_produce_ms": [],
        "produce_to_topic_ms": [],
        "topic_to_deny_ms": [],
    }
    for grant, start in answered.items():
        if grant not in produced or grant not in received or grant not in denied:
            continue
        hops["answer_to_produce_ms"].append((produced[grant] - start) * 1000)
        hops["produce_to_topic_ms"].append((received[grant] - produced[grant]) * 1000)
        hops["topic_to_deny_ms"].append((denied[grant] - received[grant]) * 1000)
    return hops


def summarise(hops: dict[str, list[float]], percentiles: Any) -> dict[str, Any]:
    """Each hop's percentiles (`harness.percentiles`)."""
    return {name: percentiles(samples) for name, samples in hops.items() if samples}
