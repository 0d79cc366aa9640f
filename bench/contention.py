"""Does the machine itself charge more CPU for the same Python work when more processes
share its cores? CPU time per unit of work with 1 to N processes at once, two ways:

- `compute`: each process parses and re-serialises a day's totals (pydantic), no I/O;
- `pingpong`: pairs of processes pass a token back and forth over a socket, with a
  little JSON work per message: a process wakes, works and sleeps, as a service does.

    .venv/bin/python -m bench.contention [compute|pingpong] [counts...]

If the CPU per unit stays flat from 1 process to 10 on two cores, time-slicing and cache
refills cost nothing that shows, and what three replicas cost beyond one is the work
each replica does, not the machine. See
docs/performance.md, "Three replicas: what the extra CPU is".
"""

import json
import multiprocessing as mp
import socket
import sys
import time
from multiprocessing.queues import Queue

from services.totals.domain.totals import DayTotals
from shared.contracts.examples import example_day_totals

COMPUTE_UNITS = 3000
MESSAGES = 20_000
# About the size of a journal's lines as posting handles them.
MESSAGE_BODY = json.dumps({"lines": [{"account": str(i), "amount": "12.34"} for i in range(30)]})


def _compute(units: int, cpu: "Queue[float]") -> None:
    body = json.dumps(example_day_totals())
    for _ in range(200):  # first-call costs out of the measurement
        DayTotals.model_validate_json(body).model_dump_json()
    started = time.process_time()
    for _ in range(units):
        DayTotals.model_validate_json(body).model_dump_json()
    cpu.put(time.process_time() - started)


def _pingpong(end: socket.socket, messages: int, serves_first: bool,
              cpu: "Queue[float]") -> None:
    started = time.process_time()
    if serves_first:
        end.sendall(b"x")
    for _ in range(messages):
        end.recv(1)
        json.dumps(json.loads(MESSAGE_BODY))
        end.sendall(b"x")
    cpu.put(time.process_time() - started)


def measure(kind: str, processes: int, units: int | None = None) -> float:
    """Mean CPU microseconds per unit of work of each of `processes` running at once
    (`pingpong` runs them in pairs: an odd count is rounded down, one pair at least)."""
    cpu: Queue[float] = mp.Queue()
    if kind == "compute":
        units = units or COMPUTE_UNITS
        workers = [mp.Process(target=_compute, args=(units, cpu)) for _ in range(processes)]
    else:
        units = units or MESSAGES
        workers = []
        for _ in range(max(processes // 2, 1)):
            one, other = socket.socketpair()
            workers += [mp.Process(target=_pingpong, args=(one, units, True, cpu)),
                        mp.Process(target=_pingpong, args=(other, units, False, cpu))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # A worker that died put nothing: waiting for its figure would wait for ever.
    if failed := [w.exitcode for w in workers if w.exitcode != 0]:
        raise RuntimeError(f"{len(failed)} of {len(workers)} workers failed: {failed}")
    spent = [cpu.get() for _ in workers]
    return sum(spent) / len(spent) / units * 1e6


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "compute"
    if kind not in ("compute", "pingpong"):
        raise SystemExit("usage: python -m bench.contention [compute|pingpong] [counts...]")
    counts = [int(n) for n in sys.argv[2:]] or [1, 2, 4, 6, 10]
    for count in counts:
        wall = time.perf_counter()
        per_unit = measure(kind, count)
        print(f"{kind}, {count} processes at once: {per_unit:.1f} CPU us per unit"
              f" (wall {time.perf_counter() - wall:.1f} s)")


if __name__ == "__main__":
    main()
