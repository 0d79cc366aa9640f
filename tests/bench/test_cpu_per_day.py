"""The bench's CPU a day counts the system (services, PostgreSQL, RabbitMQ), not the
sandbox standing in for Xero nor the bench's own POS."""

from bench.__main__ import BENCH_PROCESS, SANDBOX_PROCESS, Figures, Scenario


def figures(statuses: dict[str, int], cpu_s: dict[str, float]) -> Figures:
    return Figures(
        scenario=Scenario("at_100_per_s", 3000, 500, offered_per_s=100), days_per_s=100.0,
        p50_ms=10.0, p95_ms=20.0, p99_ms=30.0, p99_warm_ms=30.0, elapsed_s=30.0,
        statuses=statuses, refused=0, xero_calls=3000, rate_limited=0,
        token_refreshes_per_connection=0.0,
        processes={name: {"cpu_s": cpu, "peak_rss_mb": 90.0} for name, cpu in cpu_s.items()})


def test_cpu_a_day_is_the_systems_over_every_day_with_an_outcome() -> None:
    run = figures({"posted": 2900, "failed": 100}, {
        "totals": 13.0, "posting": 15.0, "auth": 0.5, "postgres": 12.0, "beam.smp": 6.0,
        SANDBOX_PROCESS: 4.0, BENCH_PROCESS: 4.5})

    # (13 + 15 + 0.5 + 12 + 6) CPU s over 3,000 days.
    assert run.cpu_ms_per_day == 46.5 / 3000 * 1000


def test_a_run_with_no_outcome_costs_nothing_a_day() -> None:
    assert figures({}, {"totals": 1.0}).cpu_ms_per_day == 0.0
