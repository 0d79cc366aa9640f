"""A small chaos run in every test run: services SIGKILLed and restarted, sandbox faults,
poison messages; afterwards every day is in Xero exactly once at its latest revision.

`make chaos` runs the full one (2,000 days, RabbitMQ and PostgreSQL restarts too)."""

from bench.chaos import ChaosPlan, print_report, run_chaos
from glbridge.system import System


async def test_a_small_chaos_run_loses_and_duplicates_nothing(system: System,
                                                             amqp_url: str) -> None:
    plan = ChaosPlan(days=240, organisations=3, stores_per_org=4, kills=5, seed=20261127,
                     restart_broker=False, restart_database=False)
    report = await run_chaos(system, amqp_url, plan, settle_timeout_s=180)
    print_report(report)
    assert len(report.kills) == plan.kills
    assert report.lost == []
    assert report.duplicates == []
    assert report.wrong_revision == []
    assert report.days_in_xero_once == plan.days
    assert report.outcomes_known == plan.days
    assert report.unexpected_dead_letters == 0
    assert report.poison_sent > 0
    assert sum(len(r) for r in report.dead_letters.values()) == report.poison_sent
