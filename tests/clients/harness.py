"""Shared helpers for the client test suite (tests/clients) and the crash test (tests/crash).

- `find_binary()` / `Server`: locate and run `searchgate serve` on a data dir and a free port.
- `repo_root()` / `shared_data()`: locate the repo and the shared corpora beside it.
- `assert_es_error()`: check an Elasticsearch error body (`{"error": {...}, "status": N}`).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterable, Optional

import requests

HERE = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The repository root (tests/clients/../..)."""
    return HERE.parent.parent


def shared_data() -> Path:
    """`<repo>/../shared/data`: CI clones the repo with shared/ beside it."""
    return repo_root().parent / "shared" / "data"


def find_binary() -> Optional[Path]:
    """`$SEARCHGATE_BIN`, else `$CARGO_TARGET_DIR/debug/searchgate`, else `<repo>/target/debug/searchgate`."""
    env = os.environ.get("SEARCHGATE_BIN")
    if env:
        return Path(env)
    candidates = []
    if os.environ.get("CARGO_TARGET_DIR"):
        candidates.append(Path(os.environ["CARGO_TARGET_DIR"]) / "debug" / "searchgate")
    candidates.append(repo_root() / "target" / "debug" / "searchgate")
    for c in candidates:
        if c.exists():
            return c
    return candidates[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(RuntimeError):
    pass


class Server:
    """A `searchgate serve` child process.

    stderr (and stdout) go to `<log_path>`, so a failing test can show what the server said.
    """

    def __init__(
        self,
        data_dir: Path,
        binary: Optional[Path] = None,
        extra_args: Iterable[str] = (),
        env: Optional[dict] = None,
        log_path: Optional[Path] = None,
        port: Optional[int] = None,
    ):
        self.binary = Path(binary) if binary else find_binary()
        self.data_dir = Path(data_dir)
        self.extra_args = list(extra_args)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path) if log_path else self.data_dir.parent / f"searchgate-{self.port}.log"
        self.proc: Optional[subprocess.Popen] = None
        self._log = None

    @property
    def argv(self) -> list:
        return [
            str(self.binary),
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--listen",
            f"127.0.0.1:{self.port}",
            *self.extra_args,
        ]

    def start(self, timeout: float = 30.0) -> "Server":
        if not self.binary.exists():
            raise ServerError(
                f"searchgate binary not found at {self.binary}: build it (cargo build) or set SEARCHGATE_BIN"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self._log.write(f"\n===== start: {' '.join(self.argv)}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env
        )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerError(
                    f"searchgate exited with code {self.proc.returncode} before answering GET /\n{self.log_tail()}"
                )
            try:
                r = requests.get(self.url + "/", timeout=2)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except requests.RequestException as e:  # not listening yet
                last = repr(e)
            time.sleep(0.1)
        self.kill()
        raise ServerError(f"searchgate did not answer GET / with 200 within {timeout}s (last: {last})\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """kill -9, no chance to flush."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._close_log()

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait for a graceful exit; kill -9 if it does not come. Returns the exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._close_log()
        return self.proc.returncode

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 80) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        tail = text.splitlines()[-lines:]
        return f"--- last {len(tail)} lines of {self.log_path} ---\n" + "\n".join(tail)


# --------------------------------------------------------------------------- errors


def error_parts(resp_or_exc):
    """(status, body, headers) from a requests.Response or an elasticsearch/opensearch client error."""
    if isinstance(resp_or_exc, requests.Response):
        try:
            body = resp_or_exc.json()
        except ValueError:
            body = resp_or_exc.text
        return resp_or_exc.status_code, body, resp_or_exc.headers
    exc = resp_or_exc
    meta = getattr(exc, "meta", None)
    if meta is not None and hasattr(meta, "status"):  # elasticsearch-py 8/9 ApiError
        return meta.status, exc.body, meta.headers
    # opensearch-py TransportError: status_code, info (parsed body)
    return getattr(exc, "status_code", None), getattr(exc, "info", None), {}


def assert_es_error(resp_or_exc, status: int, types=None, reason_contains: Optional[str] = None) -> dict:
    """Assert the Elasticsearch error shape:

        {"error": {"root_cause": [{"type": ..., "reason": ...}, ...], "type": ..., "reason": ...}, "status": N}

    `types` is one type or a set of accepted types. Returns the `error` object.
    """
    got_status, body, _ = error_parts(resp_or_exc)
    assert got_status == status, f"expected HTTP {status}, got {got_status}: {body!r}"
    assert isinstance(body, dict), f"error body is not a JSON object: {body!r}"
    assert body.get("status") == status, f"body.status should be {status}: {body!r}"
    err = body.get("error")
    assert isinstance(err, dict), f"`error` should be an object: {body!r}"
    assert isinstance(err.get("type"), str) and err["type"], body
    assert isinstance(err.get("reason"), str) and err["reason"], body
    rc = err.get("root_cause")
    assert isinstance(rc, list) and rc, f"root_cause should be a non-empty list: {body!r}"
    for cause in rc:
        assert isinstance(cause.get("type"), str) and isinstance(cause.get("reason"), str), body
    if types is not None:
        accepted = {types} if isinstance(types, str) else set(types)
        assert err["type"] in accepted, f"error type {err['type']!r} not in {sorted(accepted)}: {body!r}"
    if reason_contains is not None:
        reasons = " ".join([err["reason"]] + [c["reason"] for c in rc])
        assert reason_contains in reasons, f"{reason_contains!r} not named in the reason: {body!r}"
    return err


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def ndjson(lines) -> str:
    """NDJSON body (each line JSON-encoded unless already a str), terminated by a newline."""
    return "".join((ln if isinstance(ln, str) else dumps(ln)) + "\n" for ln in lines)
