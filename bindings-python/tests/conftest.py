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


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """Python's own Ctrl-C handler for the test, whatever the runner inherited.

    A process started in the background by a non-interactive shell (as CI
    scripts often start make) begins with SIGINT ignored; Python then installs
    no handler and ``_thread.interrupt_main()`` does nothing, so a test of
    Ctrl-C would see no KeyboardInterrupt for reasons outside the SDK.
    """
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
