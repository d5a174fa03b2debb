"""Revoke-to-deny split into hops: the hops of a revocation add up to its whole time,
and a revocation that a stamp missed is left out rather than guessed."""

from __future__ import annotations

from bench.hops import revoke_hops


def test_the_hops_of_each_revocation_add_up_to_answer_to_deny():
    stamps = {
        "answered": {"a": 100.000, "b": 200.000, "c": 300.000},
        "produced": {"a": 100.004, "b": 200.010, "c": 300.001},
        "received": {"a": 100.007, "b": 200.012},
        "denied": {"a": 100.020, "b": 200.050, "c": 300.090},
    }
    hops = revoke_hops(**stamps)
    totals = [sum(hop[i] for hop in hops.values()) for i in range(2)]
    assert [round(t, 6) for t in totals] == [20.0, 50.0]  # "c" was never received
    assert [round(ms, 6) for ms in hops["answer_to_produce_ms"]] == [4.0, 10.0]
