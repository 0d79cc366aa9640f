"""The replicas figure: phases in the order 1, 3, 3, 1, each count's phases summed."""

from bench.bulk import PHASES, three_over_one


def test_each_count_has_an_early_and_a_late_phase() -> None:
    # The same order backwards as forwards: each count's phases sit alike around the
    # middle of the run, so a steady drift weighs on both counts alike.
    assert PHASES == PHASES[::-1] and set(PHASES) == {1, 3}


def test_a_steady_slowdown_weighs_on_both_counts_alike() -> None:
    # The machine slows by 10 days/s a phase; three replicas take 0.8 of one's throughput.
    phases = [{"replicas": count, "days_per_s": (300 - 10 * index) * (0.8 if count == 3
                                                                       else 1.0)}
              for index, count in enumerate(PHASES)]
    assert three_over_one(phases) == 0.8
    # Measured 1 then 3 only, the slowdown would have been counted against three.
    assert phases[1]["days_per_s"] / phases[0]["days_per_s"] < 0.8


def test_no_one_replica_phase_gives_no_figure() -> None:
    assert three_over_one([{"replicas": 3, "days_per_s": 200.0}]) is None
