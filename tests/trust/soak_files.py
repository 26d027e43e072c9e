"""Files the GUI monkey drops and opens: a good image, bad images, session files (good and bad)."""

from __future__ import annotations

import json
from pathlib import Path

from trust_corpus import image_files


def soak_files(folder: Path, good_images: list[Path]) -> list[str]:
    """Write the bad files under ``folder``; returns good and bad paths (and a folder, and a missing file)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [str(p) for p in good_images]
    for name in ("zero_bytes", "truncated_jpeg", "text_named_png", "decompression_bomb", "sixteen_bit",
                 "exif_rotated", "cmyk_jpeg"):
        data, suffix, _, _ = image_files()[name]
        (folder / f"{name}{suffix}").write_bytes(data)
        paths.append(str(folder / f"{name}{suffix}"))
    (folder / "broken.pbsession.json").write_text("{ not json")
    (folder / "escaping.pbsession.json").write_text(json.dumps(
        {"format": "posebrowser-session", "version": 1, "gallery": "../../../../etc", "query": []}))
    paths += [str(folder / "broken.pbsession.json"), str(folder / "escaping.pbsession.json"),
              str(folder / "missing.png"), str(folder)]
    paths += [str(folder / "saved" / f"out_{i}.pbsession.json") for i in range(5)]
    return paths
