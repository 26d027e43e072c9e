"""The shipped models were made by the recipe that ``make models`` runs.

Each training command of the Makefile's ``models`` target leaves its settings in the card notes of what it
trains; a setting changed in one place and not the other (the Makefile, or the committed models) fails
here. Checked for the settings the cards record: the grey share of the image net and the keypoint reader,
the trunk head's weight, the mirrored view and the fusion's reader weights.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _models_target_commands() -> dict[str, str]:
    """``train all`` / ``train keypoints`` / ``train fusion`` → that command's line of ``make models``."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    target = makefile.split("\nmodels:", 1)[1].split("\n\n", 1)[0]
    commands: dict[str, str] = {}
    for line in target.splitlines():
        found = re.search(r"posebrowser train (all|keypoints|fusion)\b", line)
        if found:
            commands[found.group(1)] = " ".join(line.split())
    assert set(commands) == {"all", "keypoints", "fusion"}, commands
    return commands


def _option(command: str, name: str, default: str) -> str:
    found = re.search(rf"{name} (\S+)", command)
    return found.group(1) if found else default


def _notes(model: str) -> str:
    card = json.loads((ROOT / "models" / f"{model}.json").read_text(encoding="utf-8"))
    return str(card["notes"])


def test_the_image_net_card_records_the_makefile_settings() -> None:
    command = _models_target_commands()["all"]
    notes = _notes("image_net")
    grey = float(_option(command, "--grey-share", "0"))
    if grey:
        assert f"grey_share={grey}" in notes, notes
    else:
        assert "grey_share" not in notes, notes
    trunk = float(_option(command, "--aux-trunk-joints-3d", "0"))
    assert f"aux_trunk_joints_3d={trunk}" in notes, notes
    assert ("mirror_view: fitted" in notes) == ("--mirror-view" in command), notes


def test_the_keypoint_reader_card_records_the_makefile_settings() -> None:
    command = _models_target_commands()["keypoints"]
    notes = _notes("keypoint_reader")
    epochs = _option(command, "--keypoint-epochs", "")
    assert f"keypoint net ({epochs} epochs" in notes, notes
    assert ("with the depth head" in notes) == ("--keypoint-depth" in command), notes
    grey = float(_option(command, "--grey-share", "0"))
    assert ("grey share" in notes) == bool(grey), notes
    if grey:
        assert f"grey share {grey}" in notes, notes


def test_the_fused_card_records_the_makefile_reader_weights() -> None:
    command = _models_target_commands()["fusion"]
    notes = _notes("fused_net")
    readers = re.search(r"--fusion-readers ((?:\S+=\S+ ?)+)", command)
    assert readers is not None, command
    for reader in readers.group(1).split():
        name, weight = reader.split("=")
        assert f"{name} (weight {weight})" in notes, (reader, notes)
