"""How many examples a property test tries: fewer under `make mutation`, which runs the
tests again for every mutant (GLBRIDGE_EXAMPLES_SCALE, 1 by default)."""

import os


def examples(wanted: int) -> int:
    scale = float(os.environ.get("GLBRIDGE_EXAMPLES_SCALE", "1"))
    return max(10, int(wanted * scale))


def load_profile() -> None:
    """Scales the default (100 examples) for the tests that do not name their own."""
    from hypothesis import settings

    settings.register_profile("scaled", max_examples=examples(100))
    settings.load_profile("scaled")
