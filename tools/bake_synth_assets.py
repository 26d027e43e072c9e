"""Bake the synthetic-gallery assets (dev-only).

Needs the ``bake`` extra (``pip install --no-deps anny==0.6.2`` then ``pip install roma pyyaml trimesh
pybullet==3.2.7 scikit-image``; torch is already a dependency). Writes into ``resources/synth/``:

* ``body_bank.npz`` — 16 Anny body shapes: rest vertices, faces, skin weights, rest bone heads/poses,
  bone names/parents, per-vertex clothing regions and the head-top vertex of each body.
* ``motions.npz`` — the 20 DeepMimic humanoid clips of ``pybullet_data/data/motions`` (44 numbers a frame).
* ``backgrounds/*.jpg`` — CC0 / public-domain photos from scikit-image (grass, coffee, chelsea, rocket).
* ``NOTICE.md`` — licences and attribution.

Run: ``ANNY_CACHE_DIR=/tmp/anny_cache .venv/bin/python tools/bake_synth_assets.py`` (the first Anny build
takes a minute or two and writes about 800 MB of cache).
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "resources" / "synth"
BODY_COUNT = 16

#: Clothing regions, by the dominant skinning bone (the runtime colours each region).
REGIONS = ("skin", "hair", "torso", "upper_arm", "forearm", "hips", "thigh", "shin", "foot", "hand", "eye")


def region_of_bone(name: str) -> str:
    """The clothing region of vertices whose dominant bone is ``name`` (hair is decided separately)."""
    base = name.split(".")[0]
    if base in ("root", "pelvis", "upperleg01"):
        return "hips"
    if base == "upperleg02":
        return "thigh"
    if base.startswith("lowerleg"):
        return "shin"
    if base == "foot" or base.startswith("toe"):
        return "foot"
    if base.startswith("spine") or base in ("clavicle", "shoulder01"):
        return "torso"
    if base.startswith("upperarm"):
        return "upper_arm"
    if base.startswith("lowerarm"):
        return "forearm"
    if base in ("wrist",) or base.startswith(("finger", "metacarpal")):
        return "hand"
    if base == "eye":
        return "eye"
    return "skin"


def phenotypes(rng: np.random.Generator) -> np.ndarray:
    """``(16, 6)`` float32 phenotype values (gender, age, muscle, weight, height, proportions) in [0, 1]."""
    rows = [[0.0, 0.5, 0.5, 0.5, 0.5, 0.5], [1.0, 0.5, 0.5, 0.5, 0.5, 0.5]]
    while len(rows) < BODY_COUNT:
        gender = float(rng.uniform(0, 1))
        rows.append(
            [
                gender,
                float(rng.uniform(0.45, 0.9)),
                float(rng.uniform(0.1, 0.9)),
                float(rng.uniform(0.1, 0.9)),
                float(rng.uniform(0.15, 0.95)),
                float(rng.uniform(0.2, 0.8)),
            ]
        )
    return np.asarray(rows, np.float32)


def bake_body_bank(path: Path) -> None:
    """Evaluate Anny at :data:`BODY_COUNT` phenotypes and save the body bank npz."""
    import anny
    import torch

    model = anny.Anny(skinning_method="lbs")
    labels = list(model.phenotype_labels)
    pheno = phenotypes(np.random.default_rng(20251123))
    with torch.no_grad():
        kwargs = {name: torch.tensor(pheno[:, i], dtype=torch.float64) for i, name in enumerate(labels)}
        coeffs = model.get_phenotype_blendshape_coefficients(**kwargs)
        rest = model.get_rest_model(coeffs)
    vertices = rest["rest_vertices"].numpy().astype(np.float32)
    heads = rest["rest_bone_heads"].numpy().astype(np.float32)
    poses = rest["rest_bone_poses"].numpy().astype(np.float32)
    faces = model.get_triangular_faces().numpy().astype(np.int32)
    bone_names = list(model.bone_labels)
    parents = np.asarray([int(p) for p in model.bone_parents], np.int16)
    indices = model.vertex_bone_indices.numpy().astype(np.int16)
    weights = model.vertex_bone_weights.numpy().astype(np.float32)
    weights /= weights.sum(1, keepdims=True)

    dominant = indices[np.arange(len(indices)), weights.argmax(1)]
    region_index = {name: i for i, name in enumerate(REGIONS)}
    regions = np.array([region_index[region_of_bone(bone_names[b])] for b in dominant], np.uint8)
    head_bones = [bone_names.index(n) for n in ("head", "eye.L", "eye.R")]
    on_head = np.isin(dominant, head_bones)
    mean_vertices = vertices.mean(0)
    eye_z = float(heads[:, bone_names.index("eye.L"), 2].mean())
    eye_y = float(heads[:, bone_names.index("eye.L"), 1].mean())
    head_z = float(heads[:, bone_names.index("head"), 2].mean())
    vy, vz = mean_vertices[:, 1], mean_vertices[:, 2]
    hair = (
        on_head
        & (regions != region_index["eye"])
        & ((vz > eye_z + 0.045) | ((vy > eye_y + 0.07) & (vz > head_z - 0.01)))
    )
    regions[hair] = region_index["hair"]
    head_weight = np.zeros(len(indices), np.float32)
    for bone in head_bones:
        head_weight += np.where(indices == bone, weights, 0.0).sum(1)
    head_candidates = np.nonzero(head_weight > 0.5)[0]
    head_top = head_candidates[np.argmax(vertices[:, head_candidates, 2], axis=1)].astype(np.int32)

    np.savez_compressed(
        path,
        rest_vertices=vertices,
        faces=faces,
        vertex_bone_indices=indices,
        vertex_bone_weights=weights.astype(np.float16),
        rest_bone_heads=heads,
        rest_bone_poses=poses,
        bone_names=np.asarray(bone_names),
        bone_parents=parents,
        vertex_regions=regions,
        region_names=np.asarray(REGIONS),
        head_top_vertex=head_top,
        phenotypes=pheno,
        phenotype_labels=np.asarray(labels),
    )


def bake_motions(path: Path) -> None:
    """Concatenate the DeepMimic humanoid clips of pybullet_data into one npz."""
    import pybullet_data

    root = Path(pybullet_data.getDataPath()) / "data" / "motions"
    files = sorted(root.glob("humanoid3d_*.txt")) + sorted((root / "walker").glob("*.txt"))
    frames, clip_of_frame, frame_in_clip, names, loops = [], [], [], [], []
    for clip, file in enumerate(files):
        data = json.loads(file.read_text())
        rows = np.asarray(data["Frames"], np.float64)
        if rows.shape[1] != 44:
            continue
        names.append(file.stem.replace("humanoid3d_", ""))
        loops.append(str(data.get("Loop", "none")))
        frames.append(rows)
        clip_of_frame.append(np.full(len(rows), len(names) - 1, np.int16))
        frame_in_clip.append(np.arange(len(rows), dtype=np.int16))
        del clip
    np.savez_compressed(
        path,
        frames=np.concatenate(frames).astype(np.float32),
        clip_of_frame=np.concatenate(clip_of_frame),
        frame_in_clip=np.concatenate(frame_in_clip),
        clip_names=np.asarray(names),
        clip_loop=np.asarray(loops),
    )


def bake_backgrounds(folder: Path) -> None:
    """Save the four CC0 / public-domain scikit-image photos as small JPEGs."""
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("grass", "coffee", "chelsea", "rocket"):
        image = Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB")
        image.thumbnail((320, 320), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85)
        (folder / f"{name}.jpg").write_bytes(buffer.getvalue())


NOTICE = """# Synthetic-gallery assets: sources and licences

Baked by `tools/bake_synth_assets.py` (run once by a developer; the generator reads only these files).

* `body_bank.npz` — 16 body shapes evaluated from **Anny** 0.6.2 (PyPI `anny`, © 2025 NAVER Corp.), code under
  the **Apache License 2.0**. The underlying MakeHuman / MPFB2 base mesh, rig, skin weights and shape targets
  (`anny/data/mpfb2`) are released under **CC0 1.0** (see the `LICENSE.md` shipped in that folder). No SMPL /
  SMPL-X data is used.
* `motions.npz` — the DeepMimic humanoid motion clips (`humanoid3d_*`, `walker/*`) as shipped in
  `pybullet_data/data/motions` of **pybullet 3.2.7** (Bullet Physics, **zlib licence**); originally from
  DeepMimic, Xue Bin Peng, Pieter Abbeel, Sergey Levine and Michiel van de Panne, "DeepMimic: Example-Guided
  Deep Reinforcement Learning of Physics-Based Character Skills", SIGGRAPH 2018. Only the frame numbers are
  copied (concatenated, float32). The pose sampler's random poses do not depend on these clips.
* `backgrounds/grass.jpg`, `coffee.jpg`, `chelsea.jpg` — scikit-image sample data, **CC0** (per
  `skimage/data/_fetchers.py`); `backgrounds/rocket.jpg` — scikit-image sample data, **public domain**
  (NASA). Downscaled to at most 320 px and re-encoded as JPEG.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--skip-bodies", action="store_true", help="keep an existing body_bank.npz")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if not (args.skip_bodies and (out / "body_bank.npz").exists()):
        bake_body_bank(out / "body_bank.npz")
    bake_motions(out / "motions.npz")
    bake_backgrounds(out / "backgrounds")
    (out / "NOTICE.md").write_text(NOTICE)
    for file in sorted(out.rglob("*")):
        if file.is_file():
            print(f"{file.relative_to(REPO)}: {file.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
