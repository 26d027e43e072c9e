"""Property-based fuzzing of every input posebrowser reads (hypothesis, seeded): each drawn input is
either usable or refused with a typed error — never a crash, a hang or a leaked file descriptor.

``TRUST_FUZZ_EXAMPLES`` (default 25; 10–15 for the folder-opening targets) sets the examples per
target; ``benchmarks/trust_report.py --full`` runs the large size.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from trust_fuzz import fuzz_targets, run_target

EXAMPLES = int(os.environ.get("TRUST_FUZZ_EXAMPLES", "25"))
#: Targets that open a whole folder gallery per input (posebits from keypoints): fewer by default.
SLOW = {"coco json": 10, "metadata.csv": 15}
TARGET_NAMES = ("image bytes", "random bytes as image", "metadata.csv", "coco json", "annotations.npz",
                "manifest.json", "query expression", "model card", "session file")


@pytest.mark.parametrize("name", TARGET_NAMES)
def test_fuzzed_input_never_crashes(name: str, tmp_path: Path) -> None:
    targets = {target.name: target for target in fuzz_targets(tmp_path)}
    if name not in targets:
        pytest.skip(f"the module that reads {name} does not exist yet")
    examples = EXAMPLES if "TRUST_FUZZ_EXAMPLES" in os.environ else SLOW.get(name, EXAMPLES)
    run_target(targets[name], examples)
