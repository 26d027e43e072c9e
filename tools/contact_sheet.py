"""Contact sheet of real photos: each photo with its estimated skeleton, the crop that is embedded, and
its top-5 results by image query ("this image") and by pose query ("this photo's pose": the estimated
posebits, low-confidence bits left as don't care), with the posebit agreement of each result list
against chance.

The photos are read from the installed packages at report time, never copied into the repository:
scikit-image's ``astronaut`` and ``camera``, matplotlib's ``grace_hopper`` and Debian's ``opencv-doc``
examples ``messi5.jpg`` and ``basketball1.png`` (each skipped, with a note, when its package is missing).

    .venv/bin/python tools/contact_sheet.py resources/screenshots/real_photos.png --json docs/real-photos.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

OPENCV_DOC = Path("/usr/share/doc/opencv-doc/examples/data")
TOP = 5


def _skimage(name: str) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        from skimage import data

        return Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB")

    return load


def _matplotlib(name: str) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        from matplotlib import cbook

        return Image.open(cbook.get_sample_data(name, asfileobj=False)).convert("RGB")

    return load


def _file(path: Path) -> Callable[[], Image.Image]:
    return lambda: Image.open(path).convert("RGB")


PHOTOS: tuple[tuple[str, str, Callable[[], Image.Image]], ...] = (
    ("astronaut", "scikit-image", _skimage("astronaut")),
    ("camera", "scikit-image", _skimage("camera")),
    ("grace_hopper", "matplotlib", _matplotlib("grace_hopper.jpg")),
    ("messi5", "Debian opencv-doc", _file(OPENCV_DOC / "messi5.jpg")),
    ("basketball1", "Debian opencv-doc", _file(OPENCV_DOC / "basketball1.png")),
)


@dataclass
class PhotoRow:
    """What the sheet shows for one photo."""

    name: str
    source: str
    photo: NDArray[np.uint8]
    notice: str = ""
    joints_2d: NDArray[np.float32] | None = None
    crop: NDArray[np.uint8] | None = None
    known_bits: int = 0
    queries: dict[str, dict[str, Any]] = field(default_factory=dict)


def _search(engine: Any, query: Any, split: str, photo_bits: NDArray[np.int8]) -> dict[str, Any]:
    from posebrowser.evaluation.photo_agreement import agreement_shares, photo_agreement

    result = engine.search(query, k=TOP, split=split)
    database = _gallery_bits_in_vocabulary_order(engine)
    searched = engine.gallery.split_indices(split)
    figures = photo_agreement(database, photo_bits, result.indices, searched)
    shares = agreement_shares(database[searched], photo_bits)
    best = searched[np.argsort(-np.nan_to_num(shares, nan=-1.0), kind="stable")[:TOP]]
    return {
        "indices": [int(i) for i in result.indices],
        "distances": [round(float(d), 4) for d in result.distances],
        "agreement": figures.results,
        "chance": figures.chance,
        "best_possible": photo_agreement(database, photo_bits, best, searched).results,
    }


def _gallery_bits_in_vocabulary_order(engine: Any) -> NDArray[np.int8]:
    from posebrowser.pose.posebits import get_vocabulary

    gallery = engine.gallery
    columns = {name: j for j, name in enumerate(gallery.posebit_names)}
    out = np.full((len(gallery), len(get_vocabulary().names)), -1, dtype=np.int8)
    for i, name in enumerate(get_vocabulary().names):
        if name in columns:
            out[:, i] = gallery.posebits[:, columns[name]]
    return out


def describe_photo(
    engine: Any, estimator: Any, name: str, source: str, image: Image.Image, split: str, workdir: Path
) -> PhotoRow:
    """Analyse the photo as the app does (estimate, gallery-framed crop, confident posebits) and run
    both queries."""
    from posebrowser.core.query import ImageTerm, PosebitTerm, Query
    from posebrowser.estimate.photo import analyse_photo

    rgb = image.convert("RGB")
    photo_path = workdir / f"{name}.png"
    rgb.save(photo_path)
    analysis = analyse_photo(photo_path, estimator, None, crop_dir=workdir)
    row = PhotoRow(name=name, source=source, photo=np.asarray(rgb))
    estimate = analysis.estimate
    if estimate is None or analysis.crop_path is None:
        row.notice = f"no person found ({getattr(analysis.outcome, 'message', '')})"
        return row
    row.joints_2d = estimate.joints_2d
    row.crop = np.asarray(Image.open(analysis.crop_path).convert("RGB"))
    bits = np.asarray(estimate.posebits, dtype=np.int8)
    row.known_bits = len(analysis.conditions)
    if estimate.low_confidence:
        row.notice = f"low confidence (mean joint confidence {estimate.mean_confidence:.2f})"
    row.queries["image"] = _search(engine, Query((ImageTerm(path=str(analysis.crop_path)),)), split, bits)
    if analysis.conditions:
        row.queries["pose"] = _search(engine, Query((PosebitTerm(analysis.conditions),)), split, bits)
    return row


def _thumb(axes: Any, image: NDArray[np.uint8] | None, title: str = "", colour: str | None = None) -> None:
    axes.set_xticks([])
    axes.set_yticks([])
    if image is not None:
        axes.imshow(image, cmap="gray" if image.ndim == 2 else None)
    if title:
        axes.set_title(title, fontsize=7)
    for spine in axes.spines.values():
        spine.set_visible(colour is not None)
        if colour is not None:
            spine.set_edgecolor(colour)
            spine.set_linewidth(2.5)


#: Agreement within this many points of chance is drawn grey: neither better nor worse.
TIE_POINTS = 0.02


def _agreement_colour(share: float, chance: float) -> str | None:
    if math.isnan(share):
        return None
    if abs(share - chance) <= TIE_POINTS:
        return "#999999"
    return "#2ca02c" if share > chance else "#d62728"


def _agreement_text(found: dict[str, Any]) -> str:
    if math.isnan(found["agreement"]):
        return "no bit known"
    return f"agree {found['agreement']:.0%} (chance {found['chance']:.0%})"


def draw_sheet(rows: list[PhotoRow], engine: Any, out: Path) -> None:
    """One row per photo: photo + skeleton, crop, 5 image-query results, 5 pose-query results."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from posebrowser.figures.panels import draw_skeleton_2d

    columns = 2 + 2 * TOP
    figure, grid = plt.subplots(len(rows), columns, figsize=(columns * 1.25, len(rows) * 1.55), squeeze=False)
    for axes_row, row in zip(grid, rows, strict=True):
        _thumb(axes_row[0], row.photo, f"{row.name}\n({row.source})")
        draw_skeleton_2d(axes_row[0], row.joints_2d)
        height, width = row.photo.shape[:2]
        axes_row[0].set_xlim(0, width)
        axes_row[0].set_ylim(height, 0)
        _thumb(axes_row[1], row.crop, "embedded crop" if row.crop is not None else row.notice)
        for offset, kind in ((2, "image"), (2 + TOP, "pose")):
            found = row.queries.get(kind)
            for rank in range(TOP):
                axes = axes_row[offset + rank]
                if found is None or rank >= len(found["indices"]):
                    _thumb(axes, None, "—" if rank else f"{kind} query: no bit known")
                    continue
                index = found["indices"][rank]
                image = np.asarray(engine.gallery.load_image(index, size=112))
                title = ""
                if rank == 0:
                    title = f"{kind} query\n" + _agreement_text(found)
                _thumb(axes, image, title, _agreement_colour(found["agreement"], found["chance"]))
    figure.suptitle(
        "Real photos → built-in gallery (test split): top 5 by image query and by pose query; "
        "frame green / red where the list's posebit agreement is above / below chance, grey within 2 points",
        fontsize=8,
    )
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)


def _share_text(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.1%}"


def _markdown(rows: list[PhotoRow]) -> str:
    lines = [
        "| photo | known bits | image query | pose query | chance | best possible | note |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        image, pose = (_share_text(row.queries.get(kind, {}).get("agreement")) for kind in ("image", "pose"))
        first = next(iter(row.queries.values()), {})
        chance, best = _share_text(first.get("chance")), _share_text(first.get("best_possible"))
        cells = (row.name, str(row.known_bits), image, pose, chance, best, row.notice)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    parser.add_argument("--split", default="test", help="the searched split of the built-in gallery")
    args = parser.parse_args(argv)

    from posebrowser.core.engine import RetrievalEngine
    from posebrowser.estimate.estimator import PoseEstimator

    engine = RetrievalEngine.open(device="cpu")
    rows: list[PhotoRow] = []
    with PoseEstimator() as estimator, tempfile.TemporaryDirectory() as tmp:
        for name, source, load in PHOTOS:
            try:
                image = load()
            except (OSError, ImportError, ValueError) as error:
                print(f"{name}: skipped, not installed ({error})", file=sys.stderr)
                continue
            rows.append(describe_photo(engine, estimator, name, source, image, args.split, Path(tmp)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    draw_sheet(rows, engine, args.out)
    print(_markdown(rows))
    if args.json is not None:
        payload = [
            {
                "name": r.name,
                "source": r.source,
                "known_bits": r.known_bits,
                "notice": r.notice,
                "queries": r.queries,
            }
            for r in rows
        ]
        args.json.write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
