"""Untrusted files are read so that the worst they can do is be refused with a message.

Two layers, the same for the page and the command line:

1. `check_claims` looks at what a file claims before anything parses it: the size of the upload,
   the uncompressed size, entry count and compression ratio of an xlsx/ods zip, the declared
   `<dimension ref=...>` of every xlsx sheet and the repeated cells of an ods table. A 1.6 KB
   xlsx whose one cell sits at XFD1048576 would make calamine allocate 512 GB and abort the
   whole server; here it is refused from its 30 first bytes of sheet XML.
2. `guarded_read` runs the reading function in a child process with an address-space limit
   and a wall-time limit: a fork where the process has one thread (the command line; a normal
   file pays the fork and the transfer of its rows), else a reader interpreter started in
   advance (the Streamlit server; see _single_threaded). A file that lies about
   its size, or a reader bug, kills only the child; the parent turns that into a refusal.
   After reading, `check_sheet` refuses too many columns and over-long cells.

The limits are `settings_store.ImportLimits`.
"""

from __future__ import annotations

import ctypes
import dataclasses
import faulthandler
import functools
import html
import inspect
import io
import logging
import multiprocessing
import os
import pickle
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

from kam_analytics.errors import ImportBlockedError, KamError, Problem, Reason
from kam_analytics.settings_store import DEFAULT_IMPORT_LIMITS, ImportLimits

log = logging.getLogger(__name__)

# Modules the reader process imports once, so that each read is a cheap fork of it.
_RATIO_MIN_BYTES = 10_000_000  # small parts compress oddly; only big ones can be bombs
_SHEET_HEAD_BYTES = 65_536  # <dimension> comes right after <sheetPr> at the top of a sheet
_ODS_SCAN_BYTES = 64_000_000
_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\b[^>]*\bref=\"\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?\""
)
_ODS_CELL = re.compile(rb"<table:table-cell\b[^>]*>")
_ODS_REPEAT = re.compile(rb"table:number-columns-repeated=\"(\d+)\"")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
_TEXT_SNIFF_BYTES = 4096  # read.py's look for binary content
_M_ARENA_MAX = -8  # glibc mallopt: fewer malloc arenas, so the address-space limit measures use


def _refuse(file_name: str, reason: Reason, **params) -> ImportBlockedError:
    problem = Problem(file_name, None, None, None, None, reason, params=params)
    return ImportBlockedError(problems=[problem])


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f}"


def column_number(letters: str) -> int:
    """1-based column number of Excel column letters (A = 1, XFD = 16384)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


# --- layer 1: what the file claims ---------------------------------------------------------


def _check_zip(data: bytes, file_name: str, limits: ImportLimits) -> zipfile.ZipFile | None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None  # not a readable zip: the reader says so in its own words
    if len(infos) > limits.max_zip_entries:
        raise _refuse(
            file_name,
            Reason.ZIP_TOO_LARGE,
            variant="entries",
            n=f"{len(infos):,}",
            max=f"{limits.max_zip_entries:,}",
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_unpacked_bytes:
        raise _refuse(
            file_name,
            Reason.ZIP_TOO_LARGE,
            mb=_mb(total),
            max=_mb(limits.max_unpacked_bytes),
        )
    for info in infos:
        if info.file_size < _RATIO_MIN_BYTES:
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise _refuse(
                file_name,
                Reason.ZIP_BOMB,
                part=info.filename,
                ratio=f"{ratio:,.0f}",
                max=f"{limits.max_compression_ratio:,.0f}",
            )
    return zf


def _refuse_size(file_name, sheet, rows, cols, limits) -> ImportBlockedError | None:
    variant = {"variant": "sheet", "sheet": sheet} if sheet else {}
    if cols > limits.max_columns:
        return _refuse(
            file_name,
            Reason.TOO_MANY_COLUMNS,
            n=f"{cols:,}",
            max=f"{limits.max_columns:,}",
            **variant,
        )
    if rows * cols > limits.max_cells:
        return _refuse(
            file_name,
            Reason.SHEET_TOO_LARGE,
            rows=f"{rows:,}",
            cols=f"{cols:,}",
            max=f"{limits.max_cells:,}",
            **variant,
        )
    return None


def _sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """{part path: sheet name as Excel shows it}; empty when the workbook does not say."""
    try:
        wb = zf.read("xl/workbook.xml")[: _SHEET_HEAD_BYTES * 4].decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels")[: _SHEET_HEAD_BYTES * 4].decode(
            "utf-8", "replace"
        )
    except KeyError:
        return {}
    targets = {}
    for tag in re.findall(r"<Relationship\b[^>]*>", rels):
        rid, target = re.search(r'Id="([^"]+)"', tag), re.search(r'Target="([^"]+)"', tag)
        if rid and target:
            path = target.group(1).lstrip("/")
            targets[rid.group(1)] = path if path.startswith("xl/") else "xl/" + path
    names = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", wb):
        name, rid = re.search(r'name="([^"]*)"', tag), re.search(r'r:id="([^"]+)"', tag)
        if name and rid and rid.group(1) in targets:
            names[targets[rid.group(1)]] = html.unescape(name.group(1))
    return names


def _check_xlsx_sheets(zf: zipfile.ZipFile, file_name: str, limits: ImportLimits) -> None:
    names = _sheet_names(zf)
    for info in zf.infolist():
        name = info.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        with zf.open(info) as fh:
            head = fh.read(_SHEET_HEAD_BYTES)
        m = _DIMENSION.search(head)
        if not m:
            continue
        c1, r1 = column_number(m.group(1).decode()), int(m.group(2))
        c2 = column_number(m.group(3).decode()) if m.group(3) else c1
        r2 = int(m.group(4)) if m.group(4) else r1
        # calamine allocates the declared range from A1's side of it: count from the origin.
        rows, cols = max(r1, r2), max(c1, c2)
        refusal = _refuse_size(file_name, names.get(name, Path(name).stem), rows, cols, limits)
        if refusal:
            raise refusal


def _check_ods_tables(zf: zipfile.ZipFile, file_name: str, limits: ImportLimits) -> None:
    try:
        fh = zf.open("content.xml")
    except KeyError:
        return
    with fh:
        tail, seen = b"", 0
        while seen < _ODS_SCAN_BYTES:
            block = fh.read(1 << 20)
            if not block:
                break
            seen += len(block)
            text = tail + block
            for m in _ODS_CELL.finditer(text):
                tag = m.group(0)
                rep = _ODS_REPEAT.search(tag)
                # Trailing empty cells are repeated thousands of times by LibreOffice itself;
                # only a repeated cell with a value is expanded by the reader.
                if rep and b"office:value-type" in tag and int(rep.group(1)) > limits.max_columns:
                    raise _refuse_size(file_name, None, 1, int(rep.group(1)), limits)
            tail = text[-4096:]


def _check_text(data: bytes, file_name: str) -> None:
    suffix = Path(file_name).suffix.lower()
    if data[:8] == _OLE_MAGIC or suffix in _EXCEL_SUFFIXES:
        return
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 text is full of NUL bytes
    # NUL in the first 4 KB: read.py calls it a binary file. Further down it is one cell, and
    # a NUL byte ends a C string: in a name it would cut or hide what follows.
    at = data.find(b"\x00")
    if at >= _TEXT_SNIFF_BYTES:
        row = data.count(b"\n", 0, at) + 1
        problem = Problem(
            file_name,
            None,
            row,
            None,
            None,
            Reason.NUL_BYTES,
        )
        raise ImportBlockedError(problems=[problem])


def check_claims(data: bytes, file_name: str, limits: ImportLimits = DEFAULT_IMPORT_LIMITS) -> None:
    """Refuse a file whose size, zip parts or declared sheet sizes exceed the limits."""
    if len(data) > limits.max_file_bytes:
        raise _refuse(
            file_name,
            Reason.FILE_TOO_LARGE,
            mb=_mb(len(data)),
            max=_mb(limits.max_file_bytes),
        )
    if data[:2] != b"PK":
        _check_text(data, file_name)
        return
    zf = _check_zip(data, file_name, limits)
    if zf is None:
        return
    with zf:
        names = set(zf.namelist())
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            _check_xlsx_sheets(zf, file_name, limits)
        elif "content.xml" in names:
            _check_ods_tables(zf, file_name, limits)


def check_sheet(raw, limits: ImportLimits = DEFAULT_IMPORT_LIMITS) -> None:
    """Refuse a read sheet with too many columns or a cell longer than Excel allows."""
    frame = raw.frame
    refusal = _refuse_size(raw.file_name, raw.sheet, 1, frame.shape[1], limits)
    if refusal:
        raise refusal
    for col in frame.columns:
        s = frame[col]
        if not (s.dtype == object or str(s.dtype).startswith(("str", "string"))):
            continue
        lengths = s.astype("str").str.len()
        if len(lengths) and lengths.max() > limits.max_cell_chars:
            pos = int(lengths.to_numpy().argmax())
            n = int(lengths.iloc[pos])
            problem = Problem(
                raw.file_name,
                raw.sheet,
                int(raw.rows[pos]),
                str(col),
                None,
                Reason.CELL_TOO_LONG,
                params={"n": f"{n:,}", "max": f"{limits.max_cell_chars:,}"},
            )
            raise ImportBlockedError(problems=[problem])


# --- layer 2: reading in a child process ---------------------------------------------------


def parsed_bytes(data: bytes) -> int:
    """What a reader parses: the unpacked parts of a zip package, else the file itself."""
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return sum(i.file_size for i in zf.infolist())
        except (zipfile.BadZipFile, OSError, ValueError):
            pass
    return len(data)


def limits_for(data: bytes, limits: ImportLimits) -> ImportLimits:
    """The child's memory and time for this file: the base limits plus a share per byte to
    parse. Call after check_claims, which bounds those bytes (a file that lies about its
    content still meets a finite limit: at most base + share x max_unpacked_bytes)."""
    parsed = parsed_bytes(data)
    return dataclasses.replace(
        limits,
        max_memory_bytes=int(limits.max_memory_bytes + limits.memory_per_parsed_byte * parsed),
        max_seconds=float(round(limits.max_seconds + limits.seconds_per_parsed_mb * parsed / 1e6)),
    )


def _single_threaded() -> bool:
    # A process with one thread (the command line, a test) forks itself: the readers are
    # imported already, so a normal file pays about nothing. With other threads running (the
    # Streamlit server) a fork could copy a lock some thread holds, and multiprocessing's
    # spawn/forkserver would re-run the app script (Streamlit runs it as __main__) in the
    # child: there the reader is a fresh interpreter started in advance (_Workers).
    return threading.active_count() == 1


class _Workers:
    """One idle reader interpreter kept ready (modules imported), replaced after each use."""

    def __init__(self):
        self._lock = threading.Lock()
        self._spare: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
        }
        return subprocess.Popen(
            [sys.executable, "-m", "kam_analytics.ingest.guard"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=root,
        )

    def take(self) -> subprocess.Popen:
        """A ready reader process (and a new spare starting for the next file)."""
        with self._lock:
            worker, self._spare = self._spare, None
            if worker is None or worker.poll() is not None:
                worker = self._start()
            self._spare = self._start()
        return worker

    def warm_up(self) -> None:
        """Start the spare now, so that the first upload does not wait for its imports."""
        with self._lock:
            if self._spare is None or self._spare.poll() is not None:
                self._spare = self._start()


_WORKERS = _Workers()


def warm_up() -> None:
    """Start a reader process now (it imports the readers once), not at the first upload."""
    if not _single_threaded():
        _WORKERS.warm_up()


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _limit_child(limits: ImportLimits) -> None:
    # A reader that runs out of memory prints a Rust backtrace: never to the user's terminal.
    faulthandler.disable()  # (enabled by pytest or PYTHONFAULTHANDLER; it writes elsewhere)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass
    # The budget comes on top of what the process has mapped already (libraries, the parent's
    # heap after a fork), so that it means the same for a fork and a reader interpreter.
    mem = _mapped_bytes() + int(limits.max_memory_bytes)
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    cpu = int(limits.max_seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def _run_job(module: str, qualname: str, args, kwargs, limits: ImportLimits) -> bytes:
    """In the reader process: limits, read, check; the pickled outcome."""
    _limit_child(limits)
    try:
        import importlib

        fn = importlib.import_module(module)
        for part in qualname.split("."):
            fn = getattr(fn, part)
        fn = getattr(fn, "__wrapped__", fn)
        result = fn(*args, **kwargs)
        if hasattr(result, "frame"):
            check_sheet(result, limits)
        if hasattr(result, "detach_source"):
            result.detach_source()  # the parent has the file's bytes: never send them back
        outcome = ("ok", result)
    except ImportBlockedError as exc:
        outcome = ("blocked", exc.problems)
    except KamError as exc:
        outcome = ("kam", type(exc), exc.message, exc.hint, exc.code, exc.params)
    except MemoryError:
        outcome = ("memory",)
    except Exception as exc:  # noqa: BLE001 - any reader failure on a hostile file is a refusal
        outcome = ("crash", f"{type(exc).__name__}: {exc}"[:500])
    # Protocol 5 hands the Arrow/numpy buffers of the rows over without copying them one by one
    # (a 100,000-row sheet: 0.01 s instead of 0.1 s with the default protocol).
    try:
        return pickle.dumps(outcome, protocol=5)
    except MemoryError:
        return pickle.dumps(("memory",))


def _child_main(conn, module: str, qualname: str, args, kwargs, limits: ImportLimits) -> None:
    """Entry of a forked reader: run the job, send the outcome, exit."""
    conn.send_bytes(_run_job(module, qualname, args, kwargs, limits))
    conn.close()


def serve_one() -> None:
    """Entry of a reader interpreter (_Workers): one pickled job from stdin, outcome to stdout."""
    import kam_analytics.ingest.read  # noqa: F401 - imported before the job arrives

    job = pickle.load(sys.stdin.buffer)
    out = _run_job(*job)
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()


def _receive(conn, proc, deadline: float):
    """The child's outcome, or ('memory',)/('timeout',) when it died or overran."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return ("timeout",)
        if conn.poll(min(left, 0.5)):
            try:
                return pickle.loads(conn.recv_bytes())
            except (EOFError, OSError):
                return ("died",)
        if not proc.is_alive() and not conn.poll(0):
            return ("died",)


def _run_forked(fn, args, kwargs, limits) -> tuple[tuple, int | None]:
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child_main,
        args=(sender, fn.__module__, fn.__qualname__, args, kwargs, limits),
        daemon=True,
    )
    proc.start()
    sender.close()
    try:
        outcome = _receive(receiver, proc, time.monotonic() + limits.max_seconds)
    except BaseException:
        proc.kill()
        raise
    finally:
        receiver.close()
    proc.join(0 if outcome[0] == "timeout" else 2)
    if proc.is_alive():
        proc.kill()
    proc.join()
    return outcome, proc.exitcode


def _run_worker(fn, args, kwargs, limits) -> tuple[tuple, int | None]:
    worker = _WORKERS.take()
    job = pickle.dumps((fn.__module__, fn.__qualname__, args, kwargs, limits), protocol=5)
    try:
        out, _err = worker.communicate(job, timeout=limits.max_seconds)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        return ("timeout",), worker.returncode
    except BaseException:
        worker.kill()
        worker.wait()
        raise
    try:
        return pickle.loads(out), worker.returncode
    except Exception:  # noqa: BLE001 - a reader that died mid-write left no outcome
        return ("died",), worker.returncode


def run_guarded(fn, args: tuple, kwargs: dict, file_name: str, limits: ImportLimits):
    """Call `fn(*args, **kwargs)` in a limited child process; refusals come back as errors."""
    run = _run_forked if _single_threaded() else _run_worker
    outcome, exitcode = run(fn, args, kwargs, limits)
    kind = outcome[0]
    if kind == "ok":
        return outcome[1]
    if kind == "blocked":
        raise ImportBlockedError(problems=outcome[1])
    if kind == "kam":
        cls, message, hint, code, params = outcome[1:]
        exc = cls.__new__(cls)
        KamError.__init__(exc, message, hint, code, params)
        raise exc
    if kind == "timeout":
        raise _refuse(
            file_name,
            Reason.READ_TIMEOUT,
            seconds=f"{limits.max_seconds:g}",
        )
    if kind in ("memory", "died") and (kind == "memory" or exitcode in _MEMORY_DEATHS):
        raise _refuse(
            file_name,
            Reason.READ_MEMORY,
            mb=_mb(limits.max_memory_bytes),
        )
    detail = outcome[1] if kind == "crash" else f"reader process ended with {exitcode}"
    log.info("reading %s failed: %s", file_name, detail)
    if Path(file_name).suffix.lower() not in _EXCEL_SUFFIXES:
        reason = detail.split(": ", 1)[-1]
        raise _refuse(
            file_name,
            Reason.UNREADABLE_FILE,
            variant="table",
            detail=reason,
        )
    raise _refuse(
        file_name,
        Reason.UNREADABLE_FILE,
        variant="excel",
    )


# A reader that runs out of its address space aborts (Rust), segfaults or is killed.
_MEMORY_DEATHS = {-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGKILL, -signal.SIGBUS, 134, 137}


def guarded_read(fn):
    """Decorate a reader `fn(source, ...)`: claims checked here, the reading done in a child."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(source, *args, **kwargs):
        from kam_analytics.ingest.read import read_bytes

        bound = sig.bind(source, *args, **kwargs)
        if "file_name" in sig.parameters and bound.arguments.get("file_name") is None:
            is_bytes = isinstance(source, bytes | bytearray | memoryview)
            bound.arguments["file_name"] = "upload" if is_bytes else Path(source).name
        file_name = bound.arguments.get("file_name") or "upload"
        try:
            data = read_bytes(source)
        except OSError:
            return fn(*bound.args, **bound.kwargs)  # nothing untrusted read: fn explains
        if not data:
            return fn(*bound.args, **bound.kwargs)
        limits = DEFAULT_IMPORT_LIMITS
        check_claims(data, file_name, limits)
        limits = limits_for(data, limits)
        first = next(iter(sig.parameters))
        bound.arguments[first] = data
        result = run_guarded(fn, bound.args, bound.kwargs, file_name, limits)
        if hasattr(result, "attach_source"):
            result.attach_source(data)
        return result

    return wrapper


if __name__ == "__main__":
    serve_one()
