"""Who may call the access service: the JWT matrix on the school responsible's API."""

from __future__ import annotations

import pytest

from tests.access.conftest import Access, school_id
from tests.tokens import MATRIX, bearer, forged


@pytest.mark.parametrize("case", MATRIX)
def test_every_forged_misdirected_stale_or_weak_token_is_refused_with_401(
    access: Access, case: str
):
    school = school_id()
    path = f"/v1/schools/{school}/grants"
    assert access.client.get(path, headers=access.responsible(school)).status_code == 200
    token = forged(access.issuer, case, access.responsible_id, school_admin_of=[school])
    answer = access.client.get(path, headers=bearer(token))
    assert answer.status_code == 401, answer.text
