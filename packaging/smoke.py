"""Smoke test of an installed parsec-teams wheel (run by packaging/package.sh in a
fresh venv, outside the source tree): the package imports from site-packages,
talks to its embedded mock, and sends the workspace version in the User-Agent.

    python smoke.py EXPECTED_VERSION
"""

import sys

import parsec_teams
from parsec_teams import NotFoundError
from parsec_teams.testing import MockServer

want = sys.argv[1]
assert "site-packages" in parsec_teams.__file__, parsec_teams.__file__
assert parsec_teams.__version__ == want, (parsec_teams.__version__, want)
with MockServer() as mock:
    client = mock.client()
    page = client.members.list(limit=2)
    assert len(page.data) == 2, page
    try:
        client.members.get(424242)
        raise AssertionError("members.get(424242) did not raise")
    except NotFoundError as e:
        assert e.status == 404, e.status
    agents = {r.get("user_agent") for r in mock.requests()}
    assert any(a and a.startswith(f"parsec-teams/{want} (") for a in agents), agents
print(f"python smoke: parsec-teams {parsec_teams.__version__} from {parsec_teams.__file__}: ok")
