"""Screenshots of a real photo as a query, for the README (run under Xvfb; dev tool, not shipped).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python tools/photo_screenshots.py resources/screenshots

scikit-image's cameraman photo (read from the installed package, not stored here) is opened in the real
window over the built-in gallery and the shipped models, exactly as File ▸ Open image would: the window
is grabbed once with the "this image" query (the crop) and once with "this photo's pose". Estimates and
crops go to a temporary folder. Prints the time from the request to the first results.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")


def main(out_dir: str, wait_s: float = 240.0) -> int:
    import numpy as np
    from PIL import Image
    from screenshot_window import open_window, settle, wait_for
    from skimage import data

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    window, session, work = open_window("pb-photo-shots-")
    window.photo.cache_root = work / "estimates"
    photo = work / "camera.png"
    Image.fromarray(np.asarray(data.camera())).save(photo)

    loaded: list[bool] = []
    session.load(None, on_loaded=lambda: loaded.append(True))
    wait_for(lambda: bool(loaded), wait_s)
    wait_for(lambda: not session.workers.is_busy(), wait_s)
    started = time.perf_counter()
    window.photo.request_photo(str(photo))
    wait_for(lambda: session.results is not None, wait_s)
    print(f"photo → first results: {time.perf_counter() - started:.2f} s (estimator loaded on first use)")
    settle(3.0)  # thumbnails decode, the map repaints
    window.grab().save(str(out / "photo-image-query.png"))
    window.photo.choice.pose_button.click()
    wait_for(lambda: session.results is not None and session.results.query is session.query, wait_s)
    wait_for(lambda: not session.workers.is_busy(), wait_s)
    settle(3.0)
    window.grab().save(str(out / "photo-pose-query.png"))
    print(f"wrote {out / 'photo-image-query.png'} and {out / 'photo-pose-query.png'}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots"))
