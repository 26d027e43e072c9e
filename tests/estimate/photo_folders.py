"""Folders of real photos without any annotation file, built at test time from photos that installed
packages ship (scikit-image's astronaut and camera, matplotlib's Grace Hopper, Debian's OpenCV samples
where installed), one picture without a person, and renders copied from the built-in gallery."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

from posebrowser.data.gallery import Gallery

from .conftest import OPENCV_DOC_DATA, grace_hopper_path, skimage_photo

#: The picture in every folder where nobody can be found.
EMPTY_ROOM = "empty_room.png"
#: OpenCV sample photos with people, copied when Debian's opencv-doc is installed.
OPENCV_PEOPLE = ("messi5.jpg",)


def build_photo_folder(folder: Path, gallery: Gallery, renders: int) -> Path:
    """``folder`` filled with the real photos, :data:`EMPTY_ROOM` and the first ``renders`` test-split
    renders of ``gallery``; no metadata.csv, no COCO file."""
    folder.mkdir(parents=True)
    skimage_photo("astronaut").save(folder / "astronaut.png")
    skimage_photo("camera").save(folder / "camera.png")
    shutil.copy(grace_hopper_path(), folder / "grace_hopper.jpg")
    for name in OPENCV_PEOPLE:
        if (OPENCV_DOC_DATA / name).is_file():
            shutil.copy(OPENCV_DOC_DATA / name, folder / f"opencv_{name}")
    Image.new("RGB", (160, 120), (70, 80, 90)).save(folder / EMPTY_ROOM)
    for row in gallery.split_indices("test")[:renders]:
        shutil.copy(gallery.image_path(int(row)), folder / f"render_{int(row):06d}.jpg")
    return folder
