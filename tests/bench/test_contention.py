"""`python -m bench.contention` measures what it says: each kind runs its processes to the
end and reports a CPU time per unit that is neither zero nor absurd."""

import pytest

from bench import contention
from bench.contention import measure


@pytest.mark.parametrize(("kind", "processes", "units"), [("compute", 2, 50),
                                                          ("pingpong", 2, 500)])
def test_each_kind_reports_cpu_per_unit(kind: str, processes: int, units: int) -> None:
    per_unit_us = measure(kind, processes, units)

    # A day's totals parsed and written back, or a message and its JSON, cost tens to
    # hundreds of microseconds: not nothing, and far from a second.
    assert 1.0 < per_unit_us < 100_000.0


def test_a_worker_that_dies_is_reported_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    def dies(units: int, cpu: object) -> None:
        raise SystemExit(3)

    # The workers are forked, so they run the function as patched here.
    monkeypatch.setattr(contention, "_compute", dies)

    with pytest.raises(RuntimeError, match=r"2 of 2 workers failed: \[3, 3\]"):
        measure("compute", 2, 10)
