"""The app's background work, once per process and database, also when nobody is signed in.

Two daemon threads on the app's shared connection (each with its own cursor):
- the heartbeat, every 2 s, so that command-line processes know the app serves the file;
- the worker, every second: requests of command-line processes (kam_analytics/app_channel.py),
  the inbox (kam_analytics/inbox.py), the read-only copy after every write
  (kam_analytics/replica.py), and folding the write log (kam_analytics/write_log.py).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
import time
from pathlib import Path

from kam_analytics import app_channel, backup, db, replica, write_log
from kam_analytics.errors import KamError
from kam_analytics.inbox import Inbox, inbox_dir

POLL_SECONDS = 1.0
DISABLE_ENV = "KAM_WORKER"  # KAM_WORKER=0: no inbox, no requests, no copy (tests, maintenance)

log = logging.getLogger(__name__)
_workers: dict[str, AppWorker] = {}
_lock = threading.Lock()


class AppWorker:
    """The heartbeat and the worker thread of one database in this process."""

    def __init__(self, con, db_path):
        self.con = con
        self.db_path = Path(db.resolve_db_path(db_path)).resolve()
        self.started = dt.datetime.now().isoformat(timespec="seconds")
        self.stop_event = threading.Event()
        self.inbox: Inbox | None = None
        self.mark: str | None = None
        self.replica_meta: dict = {}
        self.last_error: str | None = None
        self.threads = [
            threading.Thread(target=self._beat, name="kam-heartbeat", daemon=True),
            threading.Thread(target=self._work, name="kam-worker", daemon=True),
        ]

    def start(self) -> None:
        """Start both threads."""
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        """Stop both threads and remove the heartbeat."""
        self.stop_event.set()
        app_channel.clear_heartbeat(self.db_path)

    def status(self) -> dict:
        """What the heartbeat says about this worker."""
        return {
            "started": self.started,
            "inbox": str(self.inbox.folder) if self.inbox else None,
            "last_scan": self.inbox.last_scan.isoformat(timespec="seconds")
            if self.inbox and self.inbox.last_scan
            else None,
            "replica_made_at": self.replica_meta.get("made_at"),
            "replica_last_import_id": self.replica_meta.get("last_import_id"),
            "last_error": self.last_error,
        }

    def _beat(self) -> None:
        while not self.stop_event.is_set():
            try:
                app_channel.write_heartbeat(self.db_path, self.status())
            except OSError:
                log.exception("cannot write the heartbeat")
            self.stop_event.wait(app_channel.HEARTBEAT_SECONDS)

    def _work(self) -> None:
        cur = None
        pause = POLL_SECONDS
        last_cleanup = 0.0
        while not self.stop_event.is_set():
            try:
                if cur is None:
                    cur = self.con.cursor()
                self.tick(cur)
                if time.monotonic() - last_cleanup > 3600:
                    app_channel.remove_old_requests(self.db_path)
                    last_cleanup = time.monotonic()
                self.last_error = None
                pause = POLL_SECONDS
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any one failure
                log.exception("background work failed")
                self.last_error = f"{type(exc).__name__}: {exc}"
                cur = None  # a fresh cursor next time (the connection may have been replaced)
                pause = min(30.0, pause * 2)  # a lasting fault: retry less often, log less
                self.refuse_pending(exc)
            self.stop_event.wait(pause)

    def tick(self, cur) -> None:
        """One round: requests, inbox, read-only copy, folding the write log."""
        for request in app_channel.pending_requests(self.db_path):
            self.handle(cur, request)
        if self.inbox is None:
            self.inbox = Inbox(inbox_dir(self.db_path, cur), self.db_path)
        self.inbox.scan(cur)
        self.refresh_if_changed(cur)
        write_log.fold_write_log(cur)  # sign-ins add a row a minute; a count when nothing to do

    def refresh_if_changed(self, cur) -> None:
        """Rewrite the read-only copy when something was written since the last one."""
        mark = backup.select_write_mark(cur)
        if mark != self.mark or not replica.replica_path(self.db_path).exists():
            started = time.monotonic()
            self.replica_meta = replica.refresh_replica(cur, self.db_path)
            self.mark = mark
            log.info("read-only copy refreshed in %.1f s", time.monotonic() - started)

    def refuse_pending(self, exc: Exception) -> None:
        """Answer waiting requests with the fault, so no command line waits forever."""
        for request in app_channel.pending_requests(self.db_path):
            app_channel.answer(
                request,
                {
                    "exit": 1,
                    "stdout": "",
                    "stderr": f"error: the app cannot use its database right now "
                    f"({type(exc).__name__}: {exc}); nothing was done by this command\n",
                    "error": "The app cannot use its database right now",
                    "hint": "Look at the app's log (journalctl -u kam-analytics) and restart it.",
                    "code": "app_fault",
                },
            )

    def handle(self, cur, request: Path) -> None:
        """Run one command-line request and write its result."""
        data = app_channel.read_request(request)
        kind = data.get("kind")
        try:
            if kind == "cli":
                secret = None
                if data.get("stdin_pipe"):
                    secret = app_channel.read_secret(request / data["stdin_pipe"])
                    (request / data["stdin_pipe"]).unlink(missing_ok=True)
                result = app_channel.run_cli_captured(app_channel.translate_argv(data), secret)
            elif kind == "backup":
                target = request / "backup.duckdb"
                meta = backup.copy_database(cur, target)
                result = {"meta": meta, "file": str(target)}
            else:
                result = {"error": f"Unknown request {kind!r}", "code": "app_request"}
        except KamError as exc:
            result = {"error": exc.message, "hint": exc.hint, "code": exc.code}
            result.update(exit=2, stdout="", stderr=f"error: {exc}\n")
        except Exception as exc:  # noqa: BLE001 - the caller gets a failure, the app goes on
            log.exception("request %s failed", request.name)
            text = f"{type(exc).__name__}: {exc}"
            result = {"exit": 1, "stdout": "", "stderr": f"error: {text}\n", "error": text}
        try:
            # Readers started after this answer must see what the command wrote.
            self.refresh_if_changed(cur)
        except Exception:  # noqa: BLE001 - the command's own outcome is reported regardless
            log.exception("read-only copy not refreshed after request %s", request.name)
        app_channel.answer(request, result)


def start_worker(con, db_path) -> AppWorker | None:
    """Start the background work for this database once per process (None if disabled)."""
    if os.environ.get(DISABLE_ENV, "1") == "0":
        return None
    key = str(Path(db.resolve_db_path(db_path)).resolve())
    with _lock:
        worker = _workers.get(key)
        if worker is not None and not worker.stop_event.is_set():
            worker.con = con  # the app may have reopened its connection
            return worker
        worker = AppWorker(con, key)
        _workers[key] = worker
        worker.start()
    return worker


def worker_for(db_path) -> AppWorker | None:
    """This process's worker of the database, if it runs."""
    return _workers.get(str(Path(db.resolve_db_path(db_path)).resolve()))


@atexit.register
def _stop_all() -> None:
    for worker in list(_workers.values()):
        worker.stop()
