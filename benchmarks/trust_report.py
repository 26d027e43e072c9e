"""Trust report: fuzzing, hand-made bad files, malicious pickles, SIGKILL of every writer, GUI soak.

    .venv/bin/python benchmarks/trust_report.py          # small size (about the size `make test` runs)
    .venv/bin/python benchmarks/trust_report.py --full   # full size: thousands of inputs, >100 kills,
                                                         # 6,000 GUI actions
    ... --json report.json                               # also write the figures as JSON

Prints: inputs tried, crashes, hangs, leaks, kills survived, corrupt files, soak actions, memory growth.
Exits 1 when anything crashed, hung, leaked, was corrupted or escaped. The machinery lives in
``tests/trust/`` (shared with the tests).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "trust"), str(ROOT / "tests" / "gui")]

from trust_corpus import BAD_QUERIES, Case, folder_cases, gallery_cases, image_cases, thesis_cases  # noqa: E402
from trust_outcome import Tally, classify  # noqa: E402

SIZES: dict[str, dict[str, Any]] = {
    "small": {"fuzz": 25, "fuzz_slow": 10, "kills": 5, "kills_slow": 2, "soak": 600, "warm_up": 300},
    "full": {"fuzz": 1000, "fuzz_slow": 400, "kills": 20, "kills_slow": 10, "soak": 6000, "warm_up": 1000},
}
SLOW_FUZZ = ("coco json", "metadata.csv")
SLOW_WRITERS = ("training_checkpoint", "synth_generator")


def run_cases(cases: list[Case], tally: Tally, wrong: list[str]) -> None:
    for case in cases:
        outcome, detail = classify(case.read, limit_s=20.0)
        tally.add(case.category, outcome, f"{case.name}: {detail}")
        allowed = ("ok", "refused") if case.expect == "either" else (case.expect,)
        if outcome in ("ok", "refused") and outcome not in allowed:
            wrong.append(f"{case.category}/{case.name}: {outcome}, expected {case.expect}")


def corpus(folder: Path, tally: Tally, wrong: list[str]) -> bool:
    """Hand-made bad files, checkpoints, sessions, queries and malicious pickles; returns marker-safe."""
    for build in (image_cases, folder_cases, gallery_cases, thesis_cases):
        run_cases(build(folder / build.__name__), tally, wrong)
    from trust_untrusted import cache_cases, checkpoint_cases, malicious_cases, session_cases

    run_cases(checkpoint_cases(folder / "checkpoints"), tally, wrong)
    run_cases(cache_cases(folder / "caches"), tally, wrong)
    run_cases(session_cases(folder / "sessions"), tally, wrong)
    from posebrowser.core.query_parser import parse_query
    from posebrowser.pose.posebits import get_vocabulary

    vocabulary = get_vocabulary()
    run_cases([Case("query", repr(q[:30]), lambda q=q: parse_query(q, vocabulary)) for q in BAD_QUERIES],
              tally, wrong)
    marker = folder / "PWNED"
    run_cases(malicious_cases(folder / "evil", marker), tally, wrong)
    return not marker.exists()


def fuzz(folder: Path, size: dict[str, Any], tally: Tally) -> None:
    from trust_fuzz import fuzz_targets, run_target

    for target in fuzz_targets(folder):
        examples = size["fuzz_slow"] if target.name in SLOW_FUZZ else size["fuzz"]
        started = time.monotonic()
        run_target(target, examples, tally)
        seconds = time.monotonic() - started
        print(f"  fuzz {target.name:24s} {examples:5d} inputs  {seconds:6.1f} s", flush=True)


def kills(folder: Path, size: dict[str, Any]) -> list[dict[str, Any]]:
    from trust_kill import kill_writer
    from trust_writers import WRITERS, prepare_kill

    results = []
    for writer in WRITERS:
        state, max_delay_s = prepare_kill(writer, folder)
        count = size["kills_slow"] if writer in SLOW_WRITERS else size["kills"]
        stats = kill_writer(writer, folder / writer, count, seed=zlib.crc32(writer.encode()), state=state,
                            max_delay_s=max_delay_s)
        print(f"  kill {writer:22s} kills {stats.kills:3d}  finished-first {stats.finished_before_kill:2d}  "
              f"corrupt {stats.corrupt}  resumed {stats.resumed:2d}  temp files left "
              f"{stats.temp_files_left:2d}"
              f"  {stats.seconds:6.1f} s", flush=True)
        results.append(asdict(stats))
    return results


def soak(folder: Path, full: bool) -> dict[str, Any]:
    """Run the GUI soak in a child process: an interpreter abort (a C-extension bug) is then reported
    with the number of actions reached instead of ending the report."""
    command = [sys.executable, __file__, "--soak-child", str(folder)] + (["--full"] if full else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    lines = done.stdout.splitlines()
    marker = "soak-result "
    result = next((json.loads(line[len(marker):]) for line in lines if line.startswith(marker)), None)
    if result is not None and done.returncode == 0:
        return dict(result)
    reached = [int(line.split()[1]) for line in lines if line.startswith("soak-progress ")]
    fatal = [line for line in done.stderr.splitlines() if "Fatal Python error" in line or "Error" in line]
    return {"actions": reached[-1] if reached else 0, "aborted": True, "exit": done.returncode,
            "escaped": [f"the soak process died (exit {done.returncode}) after about "
                        f"{reached[-1] if reached else 0} actions: {(fatal or ['?'])[0]}"],
            "untyped_errors": [], "typed_errors": 0, "memory_growth_mib": 0.0, "memory_trace_mib": []}


def soak_child(folder: Path, size: dict[str, Any]) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication
    from soak_files import soak_files
    from test_gui_soak import checked_engine  # the same engine the soak test drives
    from trust_soak import run_soak

    from posebrowser.app import build
    from posebrowser.gui.settings_store import SettingsStore

    app = QApplication.instance() or QApplication(sys.argv[:1])
    engine = checked_engine(folder / "images")
    window, session, _ = build(lambda ctx, path: engine, SettingsStore(folder / "settings.ini"))
    window.resize(1200, 800)
    window.show()
    session.load()
    deadline = time.monotonic() + 30
    while session.engine is None and time.monotonic() < deadline:
        app.processEvents()
    files = soak_files(folder / "files", sorted((folder / "images").glob("*.png"))[:2])
    (folder / "files" / "saved").mkdir(exist_ok=True)
    try:
        stats = run_soak(window, size["soak"], seed=2018, files=files, save_folder=folder / "files" / "saved",
                         warm_up_actions=size["warm_up"],
                         progress=lambda n: print(f"soak-progress {n}", flush=True))
    finally:
        session.workers.shutdown()
        window.close()
    result = asdict(stats)
    result["memory_growth_mib"] = stats.memory_growth_mib
    return result


def qt_binding_version() -> str:
    """The PySide6 the soak ran with (the child process imports the same one)."""
    import PySide6

    return f"PySide6 {PySide6.__version__} from {Path(PySide6.__file__).parent}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="full size (several minutes)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--skip", nargs="*", default=[], choices=("corpus", "fuzz", "kills", "soak"))
    parser.add_argument("--soak-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    size = SIZES["full" if args.full else "small"]
    if args.soak_child is not None:
        print("soak-result " + json.dumps(soak_child(args.soak_child, size), default=str), flush=True)
        return 0
    tally, wrong = Tally(), []
    report: dict[str, Any] = {"size": "full" if args.full else "small"}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="posebrowser-trust-") as scratch:
        folder = Path(scratch)
        if "corpus" not in args.skip:
            print("== hand-made corpus and malicious pickles", flush=True)
            report["malicious_pickle_ran_code"] = not corpus(folder / "corpus", tally, wrong)
        if "fuzz" not in args.skip:
            print("== property-based fuzzing (hypothesis)", flush=True)
            fuzz(folder / "fuzz", size, tally)
        if "kills" not in args.skip:
            print("== SIGKILL at random points", flush=True)
            report["kills"] = kills(folder / "kills", size)
        if "soak" not in args.skip:
            print("== GUI soak (seeded monkey, offscreen)", flush=True)
            report["soak"] = soak(folder / "soak", args.full)
            report["soak"]["qt_binding"] = qt_binding_version()
    kill_rows = report.get("kills", [])
    soak_result = report.get("soak", {})
    figures = {
        "inputs tried": tally.total(),
        "usable": tally.total("ok"), "refused with a typed error": tally.total("refused"),
        "crashes": tally.total("crash"), "hangs": tally.total("hang"), "fd leaks": tally.total("leak"),
        "unexpected outcomes (corpus)": len(wrong),
        "malicious pickles run": int(report.get("malicious_pickle_ran_code", False)),
        "kills survived": sum(r["kills"] for r in kill_rows),
        "corrupt files": sum(r["corrupt"] for r in kill_rows),
        "resumed runs": sum(r["resumed"] for r in kill_rows),
        "soak actions": soak_result.get("actions", 0),
        "soak escaped exceptions": len(soak_result.get("escaped", [])),
        "soak untyped errors shown": len(soak_result.get("untyped_errors", [])),
        "soak typed errors shown": soak_result.get("typed_errors", 0),
        "memory growth after warm-up (MiB)": round(soak_result.get("memory_growth_mib", 0.0), 1),
        "seconds": round(time.monotonic() - started, 1),
    }
    print(f"\n== trust report ({report['size']} size)")
    for name, value in figures.items():
        print(f"  {name:36s} {value}")
    by_category: dict[str, dict[str, int]] = {}
    for (category, outcome), count in sorted(tally.counts.items()):
        by_category.setdefault(category, {})[outcome] = count
    print("\n  per input kind: " + "; ".join(f"{c} {d}" for c, d in by_category.items()))
    if soak_result:
        print(f"  soak memory trace (MiB): {soak_result['memory_trace_mib']}")
        print(f"  soak Qt binding: {soak_result.get('qt_binding')}")
    problems = tally.failures + wrong + soak_result.get("escaped", [])[:5] + \
        soak_result.get("untyped_errors", [])[:5]
    for problem in problems[:40]:
        print("  PROBLEM", problem.strip().replace("\n", "\n    ")[:1500])
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "per_category": by_category, **report},
                                        indent=2, default=str))
    must_be_zero = ("crashes", "hangs", "fd leaks", "malicious pickles run", "corrupt files",
                    "soak escaped exceptions", "soak untyped errors shown")
    failed = any(figures[name] for name in must_be_zero)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
