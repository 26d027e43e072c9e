"""tools/stress_margins.py: the retained margin is the ratio of normalised margins, its interval covers
the true ratio ~95 % of the time (binomial oracle), and models/README's stress table is the tool's output
on the committed reports."""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np
import pytest
from script_loader import ROOT, load_script


def _tool() -> ModuleType:
    return load_script("tools/stress_margins.py")


def _series(hit: float, chance: float) -> dict[str, list[float]]:
    return {"image query": [hit], "chance": [chance]}


def test_retained_share_is_the_ratio_of_normalised_margins() -> None:
    tool = _tool()
    stress = tool.normalised_margin(_series(21.2, 10.5), 1, 307)
    base = tool.normalised_margin(_series(21.9, 4.6), 1, 770)
    ratio, low, high = tool.retained(stress, base)
    assert math.isclose(ratio, ((21.2 - 10.5) / 89.5) / ((21.9 - 4.6) / 95.4))
    assert low < ratio < high


def test_interval_covers_the_true_ratio_about_95_percent_of_the_time() -> None:
    """Oracle: draw both galleries' hits from known proportions (binomial over the queries) many times;
    the share of intervals holding the true ratio must be close to 95 %."""
    tool = _tool()
    rng = np.random.default_rng(0)
    true_stress, stress_chance, stress_queries = 0.30, 4.6, 800
    true_base, base_chance, base_queries = 0.35, 4.6, 770
    truth = (100 * true_stress - stress_chance) / (100 * true_base - base_chance)
    trials, covered = 2000, 0
    for _ in range(trials):
        stress_hit = 100 * rng.binomial(stress_queries, true_stress) / stress_queries
        base_hit = 100 * rng.binomial(base_queries, true_base) / base_queries
        _, low, high = tool.retained(
            tool.normalised_margin(_series(stress_hit, stress_chance), 1, stress_queries),
            tool.normalised_margin(_series(base_hit, base_chance), 1, base_queries),
        )
        covered += low <= truth <= high
    assert 0.93 <= covered / trials <= 0.97


def test_no_interval_when_a_margin_is_not_above_chance() -> None:
    tool = _tool()
    base = tool.normalised_margin(_series(30.0, 5.0), 1, 500)
    ratio, low, high = tool.retained(tool.normalised_margin(_series(4.0, 5.0), 1, 500), base)
    assert ratio < 0 and math.isnan(low) and math.isnan(high)


def test_models_readme_stress_table_is_the_tool_on_the_committed_reports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = ROOT
    evaluation = root / "models" / "evaluation"
    stress = [evaluation / "stress" / name for name in ("random-poses", "camera-shift", "body-shift")]
    assert _tool().main([str(evaluation), *map(str, stress)]) == 0
    assert _tool().main(["--series", "image query, keypoint reader alone", str(evaluation),
                         *map(str, stress)]) == 0
    readme = (root / "models" / "README.md").read_text(encoding="utf-8")
    for line in capsys.readouterr().out.splitlines():
        assert line in readme, line


def test_series_picks_another_image_model_by_the_start_of_its_label() -> None:
    tool = _tool()
    series = {"image query": [40.0], "image query, CNN alone (the fused model's CNN)": [30.0],
              "image query, keypoint reader alone": [20.0], "chance": [5.0]}
    cnn = tool.normalised_margin(series, 1, 500, "image query, CNN alone")
    assert math.isclose(cnn.value, (30.0 - 5.0) / 95.0)
    assert tool.normalised_margin(series, 1, 500).hit == 40.0  # the exact label wins over its prefixes
    with pytest.raises(SystemExit, match="2 series start with 'image query, '"):
        tool.normalised_margin(series, 1, 500, "image query, ")
    with pytest.raises(SystemExit, match="0 series start with 'pixels'"):
        tool.normalised_margin(series, 1, 500, "pixels")
