"""`python -m bench.contention` measures what it says: each kind runs its processes to the
end and reports a CPU time per unit that is neither zero nor absurd."""

import pytest

from bench.contention import measure


@pytest.mark.parametrize(("kind", "processes", "units"), [("compute", 2, 50),
                                                          ("pingpong", 2, 500)])
def test_each_kind_reports_cpu_per_unit(kind: str, processes: int, units: int) -> None:
    per_unit_us = measure(kind, processes, units)

    # A day's totals parsed and written back, or a message and its JSON, cost tens to
    # hundreds of microseconds: not nothing, and far from a second.
    assert 1.0 < per_unit_us < 100_000.0
