"""`bench/results/latest.json` keeps every key: a run of some scenarios replaces only the
figures it measured."""

import json
from pathlib import Path

from bench.__main__ import merged_with_earlier


def test_a_partial_run_keeps_the_figures_it_did_not_measure(tmp_path: Path) -> None:
    path = tmp_path / "latest.json"
    path.write_text(json.dumps({
        "days_per_s": {"value": 400.0, "measured": "earlier"},
        "replicas_3_vs_1": {"value": 0.9, "measured": "earlier"},
        "floor_msgs_per_s": 4000,
    }))
    merged = merged_with_earlier(path, {
        "days_per_s": {"value": None, "conditions": {}},
        "replicas_3_vs_1": {"value": 0.95},
        "floor_msgs_per_s": 3000,
        "system_vs_floor": None,
    })
    assert merged["days_per_s"] == {"value": 400.0, "measured": "earlier"}
    assert merged["replicas_3_vs_1"]["value"] == 0.95
    assert "python -m bench" in merged["replicas_3_vs_1"]["measured"]
    assert merged["floor_msgs_per_s"] == 3000 and "system_vs_floor" not in merged


def test_the_first_run_writes_what_it_measured(tmp_path: Path) -> None:
    merged = merged_with_earlier(tmp_path / "absent.json", {"one_org_429s": {"value": 0}})
    assert merged["one_org_429s"]["value"] == 0
