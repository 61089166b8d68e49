"""Start the app's background work right after the server starts, without a browser.

Streamlit runs the app script only for a connected session, so the inbox worker
(kam_analytics/app_worker.py) would wait for the first visitor. This opens one session over
the websocket, asks for one script run and leaves: `python -m ui.warm_up [URL]`
(deploy/kam-analytics.service runs it after the start). Exit 0 once the run was accepted.
"""

from __future__ import annotations

import asyncio
import sys

DEFAULT_URL = "http://127.0.0.1:8501"


async def _warm_up(url: str, timeout: float) -> None:
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    ws_url = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
    async with websockets.connect(ws_url, open_timeout=timeout) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = ""
        await ws.send(msg.SerializeToString())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            data = await asyncio.wait_for(ws.recv(), deadline - loop.time())
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            if fwd.WhichOneof("type") == "script_finished":
                return


def warm_up(url: str = DEFAULT_URL, timeout: float = 120.0) -> None:
    """Open one session at `url` and wait until its first script run has finished.

    Retries until the server listens (systemd starts this right after the server process).
    """
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            asyncio.run(_warm_up(url, max(1.0, deadline - time.monotonic())))
            return
        except (TimeoutError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


if __name__ == "__main__":
    warm_up(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL)
