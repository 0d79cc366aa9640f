"""Service processes for tests, forked from one that has imported every service already.

Importing a service (FastAPI, pydantic, authlib, aio-pika, ...) is most of what starting
it costs, and the suite starts a few hundred. A fork server (`python -m
tests.support.forkserver`) imports the four services once; each start is then a fork of
it that runs the service's own `python -m` entry point (`runpy`, as the interpreter does)
with the process's environment, folder and log. The result is a real process like any
other: its own pid, signals, exit code, sockets and coverage data (the `fork` patch in
`pyproject.toml`).

The forked process is handed to the test process to reap (Linux's child subreaper): the
server forks twice and the middle process exits, so the service is re-parented to the
test process, which waits for it and reads its exit code as it would a child it spawned.
Where that is not available the tests start services with `python -m` as before.
"""

import atexit
import ctypes
import importlib
import json
import os
import runpy
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

SERVICES = ("services.auth", "services.totals", "services.posting", "services.xero_sandbox")
PR_SET_CHILD_SUBREAPER = 36


class Adopted:
    """A process this one did not spawn but reaps (it was re-parented here): the part of
    `subprocess.Popen` that `ServiceProcess` uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._lock = threading.Lock()

    def poll(self) -> int | None:
        with self._lock:
            if self.returncode is None:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            time.sleep(0.01)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """The test process's side: one server, started on first use, stopped at exit."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._server: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @staticmethod
    def adopt_orphans() -> bool:
        """Makes this process the one that reaps its descendants left without a parent,
        the services forked for it among them (Linux only); whether it could."""
        if not sys.platform.startswith("linux"):
            return False
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0

    def launch(self, module: str, env: Mapping[str, str], log: BinaryIO | None) -> Adopted:
        request = {"module": module, "env": dict(env), "cwd": str(self.root),
                   "log": log.name if log is not None else None}
        with self._lock:
            server = self._started()
            assert server.stdin is not None and server.stdout is not None
            server.stdin.write(json.dumps(request).encode() + b"\n")
            server.stdin.flush()
            answer = server.stdout.readline()
        if not answer.strip().isdigit():
            raise RuntimeError(f"fork server could not start {module}: {answer!r}")
        return Adopted(int(answer))

    def _started(self) -> "subprocess.Popen[bytes]":
        if self._server is None or self._server.poll() is not None:
            self._server = subprocess.Popen(
                [sys.executable, "-m", __name__], cwd=self.root,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            atexit.register(self.stop)
        return self._server

    def stop(self) -> None:
        """Ends the server (it saves its own coverage data as it exits)."""
        if self._server is not None and self._server.poll() is None:
            assert self._server.stdin is not None
            self._server.stdin.close()
            self._server.wait(10)


# The server's side.

def serve() -> None:
    """Imports the services, then forks one for each request line on stdin and answers
    with its pid (or with why it could not) on stdout."""
    for service in SERVICES:
        importlib.import_module(f"{service}.__main__")
    for line in sys.stdin.buffer:
        try:
            answer = str(fork_service(json.loads(line)))
        except Exception as exc:
            answer = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()


def fork_service(request: dict[str, object]) -> int:
    """Forks twice so that the service is adopted by the test process; its pid."""
    read_end, write_end = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.close(read_end)
        service = os.fork()
        if service == 0:
            os.close(write_end)
            run_service(request)
        os.write(write_end, str(service).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as answer:
        pid = int(answer.read())
    # Once the middle process is gone, the service has been re-parented.
    os.waitpid(middle, 0)
    return pid


def run_service(request: dict[str, object]) -> None:
    """In the forked service: what `python -m <module>` would do, with the request's
    environment, folder and log; never returns."""
    code = 0
    try:
        os.chdir(str(request["cwd"]))
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        if request["log"] is not None:
            log = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(log, 1)
            os.dup2(log, 2)
        else:
            os.dup2(2, 1)
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update(env)
        module = str(request["module"])
        sys.argv = [module]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, int | None):
            print(exit_.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        # What the interpreter does on its way out (coverage saves its data here).
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    serve()
