"""The command-line entry point wires every area's sub-commands."""

from __future__ import annotations

import json
import subprocess
import sys

from posebrowser.cli import build_parser, main


def test_every_documented_command_is_registered() -> None:
    parser = build_parser()
    actions = [a for a in parser._actions if a.dest == "command"]
    names = set(actions[0].choices)  # type: ignore[arg-type]
    for command in ("synth", "posebits", "embed", "query", "train", "evaluate", "project", "export"):
        assert command in names, command


def test_posebits_json_lists_the_vocabulary(capsys) -> None:
    assert main(["posebits", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["count"] == len(payload["posebits"]) > 0
    first = payload["posebits"][0]
    assert {"name", "label", "body_part", "kind"} <= set(first)


def test_module_entry_point_prints_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "posebrowser", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0
    assert "synth" in done.stdout
