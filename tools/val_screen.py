"""Score whole model folders on the val halves of galleries, embedding only the val images (validation
data only; never the test split).

``tools/ablation.py --score`` embeds a whole gallery (5,000 images, ~7 min on 2 CPU cores) to score its
770 val images; this embeds only those, with each folder's default image model (``fused_net``), so a
candidate recipe's folder and the shipped one can be compared on several galleries in minutes. Each row
gives the eight figures of ``tools/ablation.py`` (hit@1 per metric with the window 50, the top-10 share,
the test-like hit@1), their mean of seven (every figure but Hamming hit@1) and the single-bit posebit
questions' precision@10 (mask, conditional).

    python tools/val_screen.py --models models build/G \\
        --set builtin=resources/gallery --set grey=build/grey-gallery --set steep=build/steep

``--grey-copy SRC DST`` first writes a grey-scale copy of a gallery (its images through luminance and
back to RGB, a new content hash), the stand-in for black-and-white photos. Rows are cached under
``--out`` (``<folder name>-<set>.npy``), so a rerun only scores.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import ablation  # a sibling script: run as `python tools/...`, its folder is on sys.path
import numpy as np

ACCEPTANCE = ablation.ACCEPTANCE_FIGURES


def grey_copy(source: Path, target: Path) -> None:
    """``target``: ``source`` with every image turned grey, under a content hash of its own."""
    from PIL import Image

    if target.exists():
        return
    shutil.copytree(source, target)
    for path in sorted((target / "images").iterdir()):
        Image.open(path).convert("L").convert("RGB").save(path, quality=95)
    manifest_path = target / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["content_hash"] = "grey" + str(manifest["content_hash"])[4:]
    manifest_path.write_text(json.dumps(manifest, indent=1))


def val_rows_embedded(models: Path, gallery_path: Path, out: Path, name: str) -> tuple[object, np.ndarray]:
    """The gallery and a (N, D) table holding the fused embeddings of its val rows (zeros elsewhere)."""
    from posebrowser.core.image_models import image_embedder_from_checkpoint
    from posebrowser.data.loading import open_gallery

    gallery = open_gallery(gallery_path)
    rows = np.sort(np.concatenate(ablation._halves(gallery)))
    stored = out / f"{models.name}-{name}.npy"
    if stored.exists():
        vectors = np.load(stored)
    else:
        embedder = image_embedder_from_checkpoint(models / "fused_net", "cpu", out / "estimates")
        vectors = embedder.embed_images(gallery, indices=rows)
        out.mkdir(parents=True, exist_ok=True)
        np.save(stored, vectors)
    table = np.zeros((len(gallery), vectors.shape[1]), np.float32)
    table[rows] = np.nan_to_num(vectors)
    return gallery, table


def score(models: Path, gallery_path: Path, out: Path, name: str) -> tuple[list[float], dict[str, float]]:
    from posebrowser.core.embedder import PosebitEmbedder
    from posebrowser.core.engine import RetrievalEngine
    from posebrowser.core.masks import MaskBank

    gallery, table = val_rows_embedded(models, gallery_path, out, name)
    queries, database = ablation._halves(gallery)
    engine = RetrievalEngine.from_arrays(
        gallery,
        table,
        posebit_embedder=PosebitEmbedder.from_checkpoint(models / "posebit_net", "cpu"),
        masks=MaskBank.load(models / "masks.safetensors"),
    )
    return ablation._scores(table, queries, database, gallery), ablation._question_precisions(
        engine, queries, database
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, nargs="+", required=True)
    parser.add_argument("--set", action="append", default=[], help="name=gallery folder; may repeat")
    parser.add_argument("--grey-copy", nargs=2, type=Path, metavar=("SRC", "DST"))
    parser.add_argument("--out", type=Path, default=Path("build/val-screen"))
    args = parser.parse_args()
    if args.grey_copy:
        grey_copy(*args.grey_copy)
    print(
        "| model | set | hit@1 2D | 3D | Procrustes | Hamming | top-10 in true 50 | test-like 2D | 3D "
        "| Procrustes | mean of seven | mask P@10 | conditional P@10 |"
    )
    print("|---|---|" + "---|" * 11)
    for pair in args.set:
        name, path = pair.split("=", 1)
        for models in args.models:
            figures, questions = score(models, Path(path), args.out, name)
            mean = float(np.mean([figures[i] for i in ACCEPTANCE]))
            precisions = list(questions.values())[:2]
            cells = " | ".join(f"{v:.1f}" for v in [*figures, mean, *precisions])
            print(f"| {models} | {name} | {cells} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
