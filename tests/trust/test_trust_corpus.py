"""The hand-made corpus of bad files: each gives a typed, user-readable error (or works) — never a
crash, a hang or a leaked file descriptor. Pickles that would run code are refused."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from trust_corpus import BAD_QUERIES, Case, folder_cases, gallery_cases, image_cases, thesis_cases
from trust_outcome import classify


def check_cases(cases: list[Case]) -> None:
    """Run every case; fail listing all that misbehaved (outcome not allowed, or wrong value)."""
    problems = []
    for case in cases:

        def read_and_check(c: Case = case) -> None:
            # The value is checked and dropped inside, so that the descriptor count that classify
            # takes afterwards does not see files a live result legitimately holds (memory maps).
            value = c.read()
            if c.check is not None:
                c.check(value)

        outcome, detail = classify(read_and_check, limit_s=20.0)
        allowed = ("ok", "refused") if case.expect == "either" else (case.expect,)
        if outcome not in allowed:
            problems.append(f"{case.category}/{case.name}: {outcome} (expected {case.expect}) {detail}")
    assert not problems, "\n".join(problems)


BUILDERS: dict[str, Callable[[Path], list[Case]]] = {
    "images": image_cases,
    "folders (metadata.csv, COCO json)": folder_cases,
    "gallery annotations": gallery_cases,
    "thesis layout": thesis_cases,
}


@pytest.mark.parametrize("area", list(BUILDERS))
def test_bad_files_are_refused_with_typed_errors(area: str, tmp_path: Path) -> None:
    check_cases(BUILDERS[area](tmp_path))


def test_error_messages_name_the_file(tmp_path: Path) -> None:
    from posebrowser.data.images import decode_image
    from posebrowser.errors import CorruptFileError

    path = tmp_path / "holiday.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not really")
    with pytest.raises(CorruptFileError, match=r"holiday\.jpg"):
        decode_image(path)


def test_checkpoints_and_model_cards(tmp_path: Path) -> None:
    importlib.import_module("posebrowser.nets.checkpoint")
    from trust_untrusted import checkpoint_cases

    check_cases(checkpoint_cases(tmp_path))


def test_damaged_embedding_caches(tmp_path: Path) -> None:
    importlib.import_module("posebrowser.core.cache")
    from trust_untrusted import cache_cases

    check_cases(cache_cases(tmp_path))


def test_session_files(tmp_path: Path) -> None:
    importlib.import_module("posebrowser.gui.session_io")
    from trust_untrusted import session_cases

    check_cases(session_cases(tmp_path))


def test_query_expressions() -> None:
    importlib.import_module("posebrowser.core.query_parser")
    from posebrowser.core.query_parser import parse_query
    from posebrowser.pose.posebits import get_vocabulary

    vocabulary = get_vocabulary()
    label = vocabulary.bits[0].label
    queries = [*BAD_QUERIES, f"[{label}]", f"[{label}=0]{{mask}}", f"2*[img 3] - 0.5*[{label}]"]
    check_cases([Case("query", repr(q[:40]), lambda q=q: parse_query(q, vocabulary)) for q in queries])


def test_malicious_pickle_is_refused_and_runs_no_code(tmp_path: Path) -> None:
    importlib.import_module("posebrowser.nets.thesis_checkpoint")
    importlib.import_module("posebrowser.training.loop")
    from trust_untrusted import malicious_cases

    marker = tmp_path / "PWNED"
    cases = malicious_cases(tmp_path / "evil", marker)
    check_cases(cases)
    assert not marker.exists(), "a malicious pickle ran code"

    from posebrowser.errors import UnsafeFileError
    from posebrowser.nets.thesis_checkpoint import load_thesis_state_dict

    with pytest.raises(UnsafeFileError):
        load_thesis_state_dict(tmp_path / "evil" / "model_6.pth")
    # The pickle is real: plain pickle.load in another process does create the marker.
    script = f"import pickle; pickle.load(open({str(tmp_path / 'evil' / 'legacy.pth')!r}, 'rb'))"
    subprocess.run([sys.executable, "-c", script], check=False, timeout=60, capture_output=True)
    assert marker.exists(), "the test pickle is not actually malicious"
