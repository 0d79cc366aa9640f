"""Backoff of transient failures: exponential with full jitter, capped."""

import random


def backoff_s(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Delay before attempt `attempt + 1` (attempt counts from 1).

    Jitter spreads retries of many postings that failed together (an outage), so they
    do not return as one burst; the floor of half the step keeps the growth visible.
    """
    step = min(cap_s, base_s * 2.0 ** max(attempt - 1, 0))
    draw = rng.random() if rng else random.random()
    return step / 2 + draw * step / 2
