"""Rendering one scene: a skinned body over a textured ground plane and a background, with Lambert +
specular shading and a cast shadow from an orthographic shadow map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posebrowser.synth.appearance import GroundStyle, Lighting, Outfit, ground_colours
from posebrowser.synth.camera import Camera
from posebrowser.synth.raster import Fragments, interpolate, rasterize

SHADOW_MAP_SIZE = 160
SHADOW_BIAS = 0.03  # metres
GROUND_FADE = (8.0, 30.0)  # metres from the body where the ground starts / ends fading into the background


@dataclass(frozen=True)
class Rendering:
    """image ``(S, S, 3)`` float32 in [0, 1] at the stored size; fragments at ``supersample × S``;
    mask ``(S, S)`` float32 body coverage (0–1) at the stored size."""

    image: NDArray[np.float32]
    fragments: Fragments
    mask: NDArray[np.float32]
    supersample: int


class ShadowMap:
    """Orthographic depth map of the body seen from the light."""

    def __init__(
        self, vertices: NDArray[np.floating], faces: NDArray[np.integer], light: NDArray[np.floating]
    ) -> None:
        self.light = np.asarray(light, dtype=np.float64)
        helper = np.array([1.0, 0.0, 0.0]) if abs(self.light[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        self.u = np.cross(self.light, helper)
        self.u /= np.linalg.norm(self.u)
        self.v = np.cross(self.light, self.u)
        pts = np.asarray(vertices, dtype=np.float64)
        uv = np.stack([pts @ self.u, pts @ self.v], 1)
        self.origin = uv.min(0) - 0.05
        self.scale = (SHADOW_MAP_SIZE - 1) / max(float((uv.max(0) + 0.05 - self.origin).max()), 1e-6)
        self.depth_offset = float((pts @ self.light).max()) + 1.0
        tri = np.asarray(faces)
        normal = np.cross(pts[tri[:, 1]] - pts[tri[:, 0]], pts[tri[:, 2]] - pts[tri[:, 0]])
        lit_faces = tri[normal @ self.light > 0]  # the surface nearest the light always faces it
        self.depth = rasterize(self._to_map(pts), lit_faces, SHADOW_MAP_SIZE, SHADOW_MAP_SIZE).depth

    def _to_map(self, points: NDArray[np.floating]) -> NDArray[np.float64]:
        pts = np.asarray(points, dtype=np.float64)
        uv = (np.stack([pts @ self.u, pts @ self.v], 1) - self.origin) * self.scale
        return np.concatenate([uv, (self.depth_offset - pts @ self.light)[:, None]], 1)

    def lit(self, points: NDArray[np.floating]) -> NDArray[np.float32]:
        """``(M,)`` float32: 1 where a world point ``(M, 3)`` sees the light, 0 where the body shadows it."""
        mapped = self._to_map(points)
        cols = np.floor(mapped[:, 0]).astype(np.int64)
        rows = np.floor(mapped[:, 1]).astype(np.int64)
        inside = (cols >= 0) & (cols < SHADOW_MAP_SIZE) & (rows >= 0) & (rows < SHADOW_MAP_SIZE)
        blocker = np.full(len(mapped), np.inf)
        blocker[inside] = self.depth[rows[inside], cols[inside]]
        return (mapped[:, 2] <= blocker + SHADOW_BIAS).astype(np.float32)


def vertex_colours(
    outfit: Outfit,
    regions: NDArray[np.integer],
    rest_vertices: NDArray[np.floating],
    region_names: tuple[str, ...],
) -> NDArray[np.float32]:
    """Per-vertex albedo ``(V, 3)`` float32 from the outfit (shirt stripes follow the rest-pose height)."""
    colours = outfit.region_colours[np.asarray(regions)].copy()
    if outfit.stripe_colour is not None:
        shirt = np.isin(regions, [region_names.index(r) for r in ("torso", "upper_arm") if r in region_names])
        band = np.floor(np.asarray(rest_vertices)[:, 2] / outfit.stripe_period).astype(np.int64) % 2 == 1
        same = np.all(colours == outfit.region_colours[region_names.index("torso")], axis=1)
        colours[shirt & band & same] = outfit.stripe_colour
    return colours.astype(np.float32)


def _shade(
    albedo: NDArray[np.floating],
    normals: NDArray[np.floating],
    lit: NDArray[np.floating],
    view: NDArray[np.floating],
    lighting: Lighting,
) -> NDArray[np.float32]:
    light = lighting.direction
    lambert = np.clip(normals @ light, 0.0, None) * lit
    halfway = view + light
    halfway /= np.maximum(np.linalg.norm(halfway, axis=1, keepdims=True), 1e-9)
    spec = np.clip(np.sum(normals * halfway, axis=1), 0.0, None) ** lighting.shininess * lit * (lambert > 0)
    colour = (
        albedo * (lighting.ambient + lighting.diffuse * lambert)[:, None] + lighting.specular * spec[:, None]
    )
    return np.asarray(colour, dtype=np.float32)


def render_scene(
    vertices: NDArray[np.floating],
    faces: NDArray[np.integer],
    normals: NDArray[np.floating],
    albedo: NDArray[np.floating],
    camera: Camera,
    lighting: Lighting,
    ground: GroundStyle | None,
    background: NDArray[np.floating],
    supersample: int = 2,
) -> Rendering:
    """Render the posed body ``vertices`` ``(V, 3)`` / ``faces`` ``(F, 3)`` with vertex ``normals`` and
    ``albedo`` ``(V, 3)`` through ``camera``; ``background`` is ``(S, S, 3)`` in [0, 1]."""
    size = camera.size
    hi = size * supersample
    verts = np.asarray(vertices, dtype=np.float64)
    tri = np.asarray(faces)
    eye = camera.position
    face_normal = np.cross(verts[tri[:, 1]] - verts[tri[:, 0]], verts[tri[:, 2]] - verts[tri[:, 0]])
    front = np.einsum("ij,ij->i", face_normal, eye - verts[tri[:, 0]]) > 0
    front_faces = tri[front]
    fragments = rasterize(camera.project(verts, scale=supersample), front_faces, hi, hi)
    shadow = ShadowMap(verts, tri, lighting.direction)

    image = np.repeat(np.repeat(np.asarray(background, dtype=np.float32), supersample, 0), supersample, 1)
    body = fragments.mask
    if ground is not None:
        rows, cols = np.nonzero(~body)
        pixel = np.stack([cols + 0.5, rows + 0.5], 1) / supersample - size / 2
        rays = np.concatenate([pixel / camera.focal, np.ones((len(pixel), 1))], 1) @ camera.rotation
        hit = rays[:, 2] < -1e-6
        t = np.where(hit, -eye[2] / np.where(hit, rays[:, 2], -1.0), 0.0)
        points = eye + t[:, None] * rays
        centre = verts.mean(0)
        distance = np.linalg.norm(points[:, :2] - centre[:2], axis=1)
        fade = np.clip((distance - GROUND_FADE[0]) / (GROUND_FADE[1] - GROUND_FADE[0]), 0, 1)
        hit &= fade < 1
        if hit.any():
            g_points = points[hit]
            lit = shadow.lit(g_points)
            shade = lighting.ambient + lighting.diffuse * max(float(lighting.direction[2]), 0.0) * lit
            colour = ground_colours(ground, g_points[:, :2]) * shade[:, None]
            r, c, f = rows[hit], cols[hit], fade[hit][:, None]
            image[r, c] = colour * (1 - f) + image[r, c] * f
    if body.any():
        world = interpolate(fragments, front_faces, verts)
        norm = interpolate(fragments, front_faces, normals)
        norm /= np.maximum(np.linalg.norm(norm, axis=1, keepdims=True), 1e-9)
        view = eye - world
        view /= np.maximum(np.linalg.norm(view, axis=1, keepdims=True), 1e-9)
        lit = shadow.lit(world + norm * 0.01)
        image[body] = _shade(interpolate(fragments, front_faces, albedo), norm, lit, view, lighting)
    image = image.reshape(size, supersample, size, supersample, 3).mean(axis=(1, 3))
    mask = body.reshape(size, supersample, size, supersample).mean(axis=(1, 3)).astype(np.float32)
    return Rendering(
        image=np.clip(image, 0, 1).astype(np.float32), fragments=fragments, mask=mask, supersample=supersample
    )
