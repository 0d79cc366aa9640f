"""The shared examples (`shared/contracts/examples.py`) as totals' domain models."""

from services.totals.domain.setup import StoreSetup
from services.totals.domain.totals import DayTotals
from shared.contracts.examples import example_day_totals, example_setup


def example_store_setup(auto_post: bool = True) -> StoreSetup:
    """The example setup as the domain model (without the key)."""
    return StoreSetup.model_validate(example_setup(auto_post=auto_post))


def example_totals(scale: int = 1) -> DayTotals:
    return DayTotals.model_validate(example_day_totals(scale))
