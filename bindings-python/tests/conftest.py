"""Every test runs against the mock server in this process (parsec_teams.testing)."""

from __future__ import annotations

from typing import Iterator

import pytest

from parsec_teams.testing import MockServer


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    with MockServer() as s:
        yield s


@pytest.fixture
def mock(server: MockServer) -> MockServer:
    server.reset()
    return server


@pytest.fixture
def client(mock: MockServer):
    with mock.client() as c:
        yield c


@pytest.fixture
def admin(mock: MockServer):
    with mock.admin_client() as c:
        yield c
