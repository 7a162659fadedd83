"""AsyncClient: cancellation, successive event loops, collection after the loop closed."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import time

import pytest

import parsec_teams as pt

MEMBER = "/v1/teams/*/members/*"


async def test_cancel_a_task_mid_request(mock) -> None:
    mock.add_fault(MEMBER, method="GET", delay_ms=3000, times=1)
    async with mock.async_client() as c:
        task = asyncio.create_task(c.members.get(1))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 0.5
        # the client keeps working, and the next request is not held up
        started = time.monotonic()
        assert (await c.members.get(2)).user_id == 2
        assert time.monotonic() - started < 1.0


class HangingServer:
    """Accepts one connection, reads the request and never answers; records
    when the client closes the connection (what a cancelled request must do)."""

    def __init__(self) -> None:
        import socket
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.got_request = threading.Event()
        self.closed = threading.Event()
        self.closed_at = 0.0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            self.got_request.set()
            while conn.recv(4096):
                pass
            self.closed_at = time.monotonic()
            self.closed.set()

    def close(self) -> None:
        self.sock.close()


async def wait_event(event, timeout: float) -> bool:
    return await asyncio.get_running_loop().run_in_executor(None, event.wait, timeout)


@pytest.mark.parametrize("how", ["cancel", "wait_for"])
async def test_cancelling_a_task_closes_its_connection(how) -> None:
    server = HangingServer()
    try:
        async with pt.AsyncClient(api_key="tapi_t.s", base_url=server.base_url, max_retries=0, timeout=30) as c:
            task = asyncio.ensure_future(c.members.get(1) if how == "cancel" else asyncio.wait_for(c.members.get(1), 0.5))
            assert await wait_event(server.got_request, 5)
            cancelled_at = time.monotonic()
            if how == "cancel":
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            else:
                with pytest.raises(asyncio.TimeoutError):
                    await task
            # The native request stopped: its connection is closed now, not at the 30 s timeout.
            assert await wait_event(server.closed, 5), "the connection stayed open after the task was cancelled"
            assert server.closed_at - cancelled_at < 2.0
    finally:
        server.close()


def test_ctrl_c_closes_the_connection_of_a_sync_call(ctrl_c: None) -> None:
    import _thread
    import threading

    server = HangingServer()
    try:
        with pt.Client(api_key="tapi_t.s", base_url=server.base_url, max_retries=0, timeout=30) as c:
            timer = threading.Thread(target=lambda: server.got_request.wait(5) and _thread.interrupt_main())
            timer.start()
            with pytest.raises(KeyboardInterrupt):
                c.members.get(1)
            interrupted_at = time.monotonic()
            timer.join()
            assert server.closed.wait(5), "the connection stayed open after Ctrl-C"
            assert server.closed_at - interrupted_at < 2.0
    finally:
        server.close()


async def test_wait_for_timeout_cancels(mock) -> None:
    mock.add_fault(MEMBER, method="GET", delay_ms=3000, times=1)
    async with mock.async_client(max_retries=0) as c:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(c.members.get(1), 0.2)


async def test_gather_many(mock) -> None:
    async with mock.async_client() as c:
        results = await asyncio.gather(*(c.members.get(i) for i in range(1, 41)))
    assert [m.user_id for m in results] == list(range(1, 41))
    assert len(mock.requests()) == 40


def test_successive_asyncio_run_and_collection_after_close(mock) -> None:
    # In a subprocess, so that nothing else of the test session hides a warning.
    code = textwrap.dedent(
        f"""
        import asyncio, gc, sys, warnings
        warnings.simplefilter("error")
        import parsec_teams as pt
        errors = []
        sys.unraisablehook = lambda u: errors.append(repr(u.exc_value))
        c = pt.AsyncClient(api_key={mock.api_key!r}, team_id={mock.team_id!r}, base_url={mock.base_url!r})
        async def work():
            m = await c.members.get(1)
            assert m.user_id == 1
            page = await c.members.list(limit=5)
            assert len(page.data) == 5
            return [x async for x in c.app_rules.iter()]
        for _ in range(5):
            asyncio.run(work())
        # a request left running when its loop closes
        async def abandon():
            asyncio.get_running_loop().create_task(c.members.get(2))
        asyncio.run(abandon())
        asyncio.run(work())
        c2 = pt.AsyncClient(api_key={mock.api_key!r}, team_id={mock.team_id!r}, base_url={mock.base_url!r})
        asyncio.run(c2.members.get(3))
        del c2
        del c
        gc.collect()
        import time; time.sleep(0.2); gc.collect()
        assert not errors, errors
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Event loop is closed" not in out.stderr
    assert out.stdout.strip() == "ok"


def test_loops_in_several_threads(mock) -> None:
    import threading

    c = mock.async_client()
    results = []

    def run() -> None:
        async def work() -> int:
            ms = await asyncio.gather(*(c.members.get(i) for i in range(1, 11)))
            return len(ms)

        results.append(asyncio.run(work()))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [10, 10, 10, 10]
