"""Embedding rate of the fused image model (the CNN + the pose estimator's reading) against its parts.

All rates come from the same run, on the same files (``--count`` of the built-in gallery's JPEG files),
each estimate pass with an empty estimate cache of its own:

* **fused, first time**: ``FusedEmbedder.embed_images`` — the CNN on each chunk, then BlazePose + the
  joints net on the same images, then the fused model's image readers (the keypoint reader) on the images
  in which BlazePose found a person, then the blend;
* **its parts, one after the other** (the like-for-like baseline: the same work, no fusion): the CNN's
  ``Embedder.embed_images`` over the files, then the joints model's ``JointsEmbedder.embed_images``, then
  each image reader's ``Embedder.embed_images`` over the files with a person; the ratio says what the
  fusion itself costs on top of its readers (the reader over *every* file is printed too: the work the
  fused model skips);
* **fused, estimates cached** (a gallery opened again, or a photo already estimated) against **the CNN
  alone**: what the estimator costs once its answers are cached.

    python benchmarks/bench_fused_embed.py [--count 256] [--models models]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GALLERY_IMAGES = REPO / "resources" / "gallery" / "images"


def _seconds(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--models", type=Path, default=REPO / "models")
    args = parser.parse_args()

    from posebrowser.core.device import configure_threads
    from posebrowser.core.embedder import Embedder
    from posebrowser.core.fused_embedder import FusedEmbedder
    from posebrowser.core.joints_embedder import JointsEmbedder

    print("threads:", configure_threads())
    files = sorted(GALLERY_IMAGES.glob("*.jpg"))[: args.count]
    count = len(files)
    with tempfile.TemporaryDirectory() as scratch:
        caches = [Path(scratch) / name for name in ("fused", "parts")]
        fused = FusedEmbedder.from_checkpoint(args.models / "fused_net", "cpu", caches[0])
        cnn = Embedder.from_checkpoint(args.models / "image_net", "cpu")
        joints = JointsEmbedder.from_checkpoint(args.models / "joints_net", "cpu", caches[1])
        cnn.embed_images(files[:8])  # warm-up: threads, kernels, the estimator's graph
        fused.joints.estimator.estimate(files[0].read_bytes())
        first = count / _seconds(lambda: fused.embed_images(files))
        cnn_seconds = _seconds(lambda: cnn.embed_images(files))
        joints_seconds = _seconds(lambda: joints.embed_images(files))
        nobody = set(joints.no_person_rows)
        with_person = [f for row, f in enumerate(files) if row not in nobody]
        image_readers = [reader for reader in fused.readers if not isinstance(reader, JointsEmbedder)]
        reader_seconds = sum(_seconds(lambda r=r: r.embed_images(with_person)) for r in image_readers)
        every_file = sum(_seconds(lambda r=r: r.embed_images(files)) for r in image_readers)
        parts = count / (cnn_seconds + joints_seconds + reader_seconds)
        cached = count / _seconds(lambda: fused.embed_images(files))
        alone = count / _seconds(lambda: cnn.embed_images(files))
    print(f"{count} files of the built-in gallery, batch 64, fp32, CPU; {len(with_person)} with a person, "
          f"{len(image_readers)} image reader(s)")
    print(f"fused, first time:              {first:6.1f} img/s")
    print(f"its parts one after the other:  {parts:6.1f} img/s   (fused / parts: {first / parts:.2f})")
    if image_readers:
        print(f"the image readers: {reader_seconds:.1f} s on the files with a person, {every_file:.1f} s on "
              f"every file (what reading only the former saves)")
    print(f"fused, estimates cached:        {cached:6.1f} img/s")
    print(f"the CNN alone:                  {alone:6.1f} img/s   (cached fused / CNN: {cached / alone:.2f})")


if __name__ == "__main__":
    main()
