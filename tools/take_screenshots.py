"""Screenshots of the real window for the README (run under Xvfb; dev tool, not shipped).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python tools/take_screenshots.py resources/screenshots

Each scene is a session file restored into the app exactly as ``python -m posebrowser --session F``
would; the window is grabbed once its jobs (query, projection, mask fit) have finished.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

SCENES: dict[str, dict[str, Any]] = {
    # Click a gallery image: ranked results, projection coloured by 3-D distance to the query.
    "image-query": {
        "query": [{"type": "image", "weight": 1.0, "gallery_index": 13, "path": None}],
        "conditions": {},
        "settings": {"projection_method": "pca", "colour_by": "distance:3d", "split": "test", "k": 50},
        "inspect_rank": 0,  # the inspector shows the first result's ground truth
    },
    # Tick two posebits, answered by a mask fitted on the fly (origin query) in the masked subspace.
    "posebit-mask-query": {
        "query": [
            {
                "type": "posebits",
                "weight": 1.0,
                "mode": "mask",
                "conditions": [["left_knee_bent", 1], ["right_knee_bent", 1]],
            }
        ],
        "conditions": {"left_knee_bent": 1, "right_knee_bent": 1},
        "settings": {
            "partial_method": "mask",
            "projection_method": "tsne",
            "subspace": True,
            "colour_by": "posebit:left_knee_bent",
            "k": 50,
        },
    },
    # One posebit ticked, answered by the conditional query (completion + asked-bit contrast), test split.
    "posebit-conditional-query": {
        "query": [
            {
                "type": "posebits",
                "weight": 1.0,
                "mode": "conditional",
                "conditions": [["right_wrist_above_upper_neck", 1]],
            }
        ],
        "conditions": {"right_wrist_above_upper_neck": 1},
        "settings": {
            "partial_method": "conditional",
            "projection_method": "pca",
            "colour_by": "posebit:right_wrist_above_upper_neck",
            "split": "test",
            "k": 50,
        },
        "inspect_rank": 0,
    },
}


def session_document(scene: dict[str, Any], gallery: str | None) -> dict[str, Any]:
    return {"format": "posebrowser-session", "version": 1, "gallery": gallery, "selection": [], **scene}


def main(out_dir: str, models: str | None = None, wait_s: float = 120.0) -> int:
    from screenshot_window import open_window, settle, wait_for

    from posebrowser.gui.session_io import restore_session

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    window, session, work = open_window("pb-shots-", models)

    def idle() -> None:
        wait_for(lambda: not session.workers.is_busy(), wait_s, 0.5)
        settle(3.0)  # thumbnails decode and the scatter repaints

    loaded: list[bool] = []
    session.load(None, on_loaded=lambda: loaded.append(True))
    wait_for(lambda: bool(loaded), wait_s * 3, 0.5)
    for name, scene in SCENES.items():
        path = work / f"{name}.pbsession.json"
        document = {key: value for key, value in scene.items() if key != "inspect_rank"}
        path.write_text(json.dumps(session_document(document, None)))
        restore_session(session, path)
        idle()
        if "inspect_rank" in scene and session.results is not None:
            window.insight.inspect(int(session.results.result.indices[scene["inspect_rank"]]))
            settle(1.0)
            idle()
        target = out / f"{name}.png"
        window.grab().save(str(target))
        print(f"wrote {target}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots", *sys.argv[2:3]))
