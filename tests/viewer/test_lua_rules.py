"""The Lua's `newest` and `current` (lua/lib.lua) against `iris.current_report`, the one
statement of which report version is current and which versions a copy keeps."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iris import current_report
from services.viewer import domain
from services.viewer.cache import PREFIX
from services.viewer.encoding import day, decode_report, encode_report
from services.viewer.scripts import LUA

pytestmark = pytest.mark.integration

KEPT = domain.REPORT_VERSIONS_KEPT
DAYS = [f"2026-09-{d:02d}" for d in range(1, 6)]
IDS = [str(uuid.UUID(int=n)) for n in range(1, 5)]

# lib.lua's rules over two report states as the fold meets them: merged with `newest`,
# then the current version of the merged state on a day.
PROBE = """
local a, b = cjson.decode(ARGV[3]), cjson.decode(ARGV[4])
local st = {i = newest(list(a, 'i'), list(b, 'i')), w = newest(list(a, 'w'), list(b, 'w'))}
local cur = current(st, ARGV[5])
return cjson.encode({st = st, current = cur and cur[1] or cjson.null})
"""


@pytest.fixture(scope="module")
def probe(infra) -> Iterator[Any]:
    client = redis.Redis.from_url(infra.redis_url)
    script = client.register_script((LUA / "lib.lua").read_text() + "\n" + PROBE)
    yield script
    client.close()


issued_versions = st.builds(
    domain.IssuedVersion,
    version=st.integers(1, 7),
    report_id=st.sampled_from(IDS),
    kind=st.just("GC"),
    valid_from=st.sampled_from(DAYS),
    clb_id=st.just("113001"),
)
withdrawals = st.builds(
    domain.Withdrawal,
    version=st.integers(1, 7),
    report_id=st.sampled_from(IDS),
    withdrawn_on=st.sampled_from(DAYS),
)


@st.composite
def states(draw: st.DrawFn) -> domain.ReportState:
    """A report state as the cache holds it: at most KEPT of each, newest first."""
    issued = current_report.newest(draw(st.lists(issued_versions, max_size=8)), KEPT)
    withdrawn = current_report.newest(draw(st.lists(withdrawals, max_size=8)), KEPT)
    return domain.ReportState(issued, withdrawn)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(held=states(), incoming=states(), today=st.sampled_from(DAYS))
def test_the_lua_keeps_the_same_versions_and_finds_the_same_current_report(
    probe, held, incoming, today
):
    answer = json.loads(
        probe(args=[PREFIX, KEPT, encode_report(held), encode_report(incoming), day(today)])
    )
    merged = domain.ReportState(
        current_report.newest([*held.issued, *incoming.issued], KEPT),
        current_report.newest([*held.withdrawn, *incoming.withdrawn], KEPT),
    )
    assert decode_report(json.dumps(answer["st"])) == merged
    expected = merged.current(today)
    assert answer["current"] == (expected.version if expected else None)
