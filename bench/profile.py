"""Samples the system's processes with py-spy while a scenario runs (`python -m bench
--profile DIR`), and summarises the collapsed stacks it writes.

    .venv/bin/python -m bench.profile DIR/throughput-posting.txt   # top frames of one file

py-spy samples without pausing the process (--nonblocking), so the figures of a profiled
run are close to those of a plain one; its own CPU is taken from the same two cores.
"""

import argparse
import collections
import shutil
import signal
import subprocess
import sys
from pathlib import Path


class Profiler:
    def __init__(self, pids: dict[str, int], directory: Path, prefix: str) -> None:
        self.pids = pids
        self.directory = directory
        self.prefix = prefix
        self._children: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which(
            "py-spy")
        if py_spy is None:
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            out = self.directory / f"{self.prefix}-{name}.txt"
            self._children.append(subprocess.Popen(
                [py_spy, "record", "--pid", str(pid), "--format", "raw", "--nonblocking",
                 "--rate", "200", "--output", str(out)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def stop(self) -> None:
        for child in self._children:
            child.send_signal(signal.SIGINT)
        for child in self._children:
            child.wait(timeout=30)


def summarise(path: Path, top: int = 25) -> str:
    """The frames where samples were taken (self) and the frames of our own code that the
    samples passed through (inclusive), as shares of all samples."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[_short(frames[-1])] += count
        for frame in {_short(f) for f in frames if _is_ours(f)}:
            inclusive[frame] += count
    lines = [f"{path.name}: {total} samples", "self:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append("inclusive (our code):")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


def _is_ours(frame: str) -> bool:
    return any(part in frame for part in ("services/", "shared/", "bench/", "glbridge/"))


def _short(frame: str) -> str:
    # py-spy frames read "function (path/to/file.py:line)": keep the file's last two parts.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path, _, _ = where.rpartition(":")
    parts = path.split("/")
    return f"{name} ({'/'.join(parts[-2:])})"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for file in args.files:
        print(summarise(file, args.top))
        print()
