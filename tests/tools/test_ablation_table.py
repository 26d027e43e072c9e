"""tools/ablation.py's screen table: every screen prints the same columns, and the mean leaves out Hamming."""

from __future__ import annotations

from script_loader import load_script


def test_a_screen_row_s_mean_is_that_of_the_seven_acceptance_figures() -> None:
    tool = load_script("tools/ablation.py")
    scores = [10.0, 20.0, 30.0, 99.0, 40.0, 50.0, 60.0, 70.0]  # Hamming hit@1 (99) is not one of them
    expected = "| x | 10.0 | 20.0 | 30.0 | 99.0 | 40.0 | 50.0 | 60.0 | 70.0 | 40.0 |"
    assert tool.screen_row("x", scores) == expected


def test_a_screen_header_has_a_rule_for_each_column() -> None:
    tool = load_script("tools/ablation.py")
    title, rule = tool.screen_header("weights").split("\n")
    assert title.startswith("| weights | hit@1 2D |") and title.endswith("| mean of seven |")
    assert rule.count("---") == title.count("|") - 1 == 10
