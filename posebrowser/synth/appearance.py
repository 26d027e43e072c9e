"""Random appearance: clothing, skin and hair colours, light, backgrounds and ground textures.
All colours are linear-ish RGB floats in [0, 1].
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posebrowser.synth.assets import load_photos

FloatArray = NDArray[np.float64]

_SKIN_LIGHT = np.array([0.96, 0.80, 0.69])
_SKIN_DARK = np.array([0.30, 0.19, 0.12])
_HAIR = np.array(
    [
        [0.06, 0.05, 0.05],
        [0.22, 0.13, 0.07],
        [0.42, 0.27, 0.13],
        [0.80, 0.66, 0.40],
        [0.55, 0.22, 0.08],
        [0.60, 0.60, 0.60],
    ]
)
#: Photos that look like a surface when tiled on the ground (the others are only backgrounds).
GROUND_PHOTOS = ("grass",)
_SHOES = np.array([[0.08, 0.08, 0.08], [0.90, 0.90, 0.88], [0.35, 0.22, 0.12], [0.20, 0.25, 0.45]])


def _random_cloth(rng: np.random.Generator, dark_bias: float = 0.0) -> FloatArray:
    hue = rng.uniform(0, 1)
    saturation = rng.uniform(0.0, 0.9) if rng.uniform() < 0.8 else rng.uniform(0.0, 0.15)
    value = float(np.clip(rng.uniform(0.15, 0.95) - dark_bias * rng.uniform(0, 0.5), 0.05, 1.0))
    return np.array(colorsys.hsv_to_rgb(hue, saturation, value))


@dataclass(frozen=True)
class Outfit:
    """Per-region colours ``(R, 3)`` (R = number of body-bank regions) and a stripe pattern for the shirt."""

    region_colours: FloatArray
    stripe_colour: FloatArray | None
    stripe_period: float


def random_outfit(rng: np.random.Generator, region_names: tuple[str, ...]) -> Outfit:
    """Skin tone, hair (or bald), shirt with long or short sleeves, trousers or shorts, shoes."""
    skin = _SKIN_LIGHT + rng.uniform(0, 1) ** 1.3 * (_SKIN_DARK - _SKIN_LIGHT) + rng.normal(0, 0.02, 3)
    hair = skin * 0.9 if rng.uniform() < 0.1 else _HAIR[rng.integers(len(_HAIR))] * rng.uniform(0.8, 1.2)
    shirt = _random_cloth(rng)
    trousers = _random_cloth(rng, dark_bias=0.6)
    colours = {
        "skin": skin,
        "hair": hair,
        "torso": shirt,
        "upper_arm": shirt if rng.uniform() < 0.85 else skin,
        "forearm": shirt if rng.uniform() < 0.55 else skin,
        "hips": trousers,
        "thigh": trousers,
        "shin": trousers if rng.uniform() < 0.75 else skin,
        "foot": _SHOES[rng.integers(len(_SHOES))],
        "hand": skin,
        "eye": np.array([0.05, 0.04, 0.04]),
    }
    table = np.array([colours.get(name, skin) for name in region_names])
    stripes = rng.uniform() < 0.25
    return Outfit(
        region_colours=np.clip(table, 0, 1),
        stripe_colour=np.clip(_random_cloth(rng), 0, 1) if stripes else None,
        stripe_period=float(rng.uniform(0.04, 0.12)),
    )


@dataclass(frozen=True)
class Lighting:
    """direction ``(3,)`` unit vector *towards* the light; ambient, diffuse and specular strengths."""

    direction: FloatArray
    ambient: float
    diffuse: float
    specular: float
    shininess: float


def random_lighting(rng: np.random.Generator) -> Lighting:
    """A light from above (elevation 25–80°, any azimuth) with random strengths."""
    azimuth = rng.uniform(0, 2 * np.pi)
    elevation = np.radians(rng.uniform(25, 80))
    direction = np.array(
        [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)]
    )
    return Lighting(
        direction=direction,
        ambient=float(rng.uniform(0.3, 0.55)),
        diffuse=float(rng.uniform(0.5, 0.85)),
        specular=float(rng.uniform(0.0, 0.25)),
        shininess=float(rng.uniform(8, 40)),
    )


def random_background(rng: np.random.Generator, size: int) -> NDArray[np.float32]:
    """``(size, size, 3)`` float32: a random crop of a photo (60 %) or a gradient with rectangles."""
    if rng.uniform() < 0.6:
        photos = load_photos()
        _, photo = photos[rng.integers(len(photos))]
        h, w = photo.shape[:2]
        crop = int(rng.uniform(0.35, 1.0) * min(h, w))
        top, left = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
        patch = photo[top : top + crop, left : left + crop]
        index = (np.arange(size) * crop // size).astype(np.int64)
        image = patch[index][:, index]
        if rng.uniform() < 0.5:
            image = image[:, ::-1]
        tint = rng.uniform(0.7, 1.2, 3)
        return np.clip(image * tint, 0, 1).astype(np.float32)
    top, bottom = _random_cloth(rng), _random_cloth(rng)
    ramp = np.linspace(0, 1, size)[:, None, None]
    canvas: FloatArray = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (size, size, 3)).copy()
    for _ in range(rng.integers(0, 4)):
        x0, y0 = rng.integers(0, size, 2)
        w, h = rng.integers(size // 10, size // 2, 2)
        canvas[y0 : y0 + h, x0 : x0 + w] = _random_cloth(rng)
    return canvas.astype(np.float32)


@dataclass(frozen=True)
class GroundStyle:
    """kind: "flat", "checker" or "photo"; colours ``(2, 3)``; tile size (m); photo index; photo scale."""

    kind: str
    colours: FloatArray
    tile: float
    photo: int
    scale: float


def random_ground(rng: np.random.Generator) -> GroundStyle:
    """A flat, checker or photo-textured ground (photos tinted, tiled every ``scale`` metres)."""
    kind = ("flat", "checker", "photo", "photo")[rng.integers(4)]
    names = [name for name, _ in load_photos()]
    textures = [i for i, name in enumerate(names) if name in GROUND_PHOTOS] or list(range(len(names)))
    return GroundStyle(
        kind=kind,
        colours=np.stack([_random_cloth(rng), _random_cloth(rng)]),
        tile=float(rng.uniform(0.3, 1.2)),
        photo=int(textures[rng.integers(len(textures))]),
        scale=float(rng.uniform(1.0, 4.0)),
    )


def ground_colours(style: GroundStyle, xy: NDArray[np.floating]) -> NDArray[np.float32]:
    """Albedo ``(M, 3)`` float32 of ground points ``xy`` ``(M, 2)`` (metres)."""
    points = np.asarray(xy, dtype=np.float64)
    if style.kind == "flat":
        return np.asarray(np.broadcast_to(style.colours[0], (len(points), 3)), dtype=np.float32)
    if style.kind == "checker":
        cells = np.floor(points / style.tile).astype(np.int64).sum(1) % 2
        return np.asarray(style.colours[cells], dtype=np.float32)
    _, photo = load_photos()[style.photo]
    h, w = photo.shape[:2]
    u = np.mod(points / style.scale, 1.0)
    rows = np.minimum((u[:, 1] * h).astype(np.int64), h - 1)
    cols = np.minimum((u[:, 0] * w).astype(np.int64), w - 1)
    tint = 0.5 + style.colours[0]
    return np.asarray(np.clip(photo[rows, cols] * tint, 0, 1), dtype=np.float32)
