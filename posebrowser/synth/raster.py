"""A vectorised numpy z-buffer triangle rasteriser.

Screen coordinates are continuous pixels: x to the right, y down, pixel ``(row, col)`` covers
``[col, col+1) × [row, row+1)`` and is sampled at its centre ``(col + 0.5, row + 0.5)``. A pixel belongs to
a triangle when its centre is inside or on an edge. Depth is any positive per-vertex value that grows away
from the viewer (camera z for a perspective camera, the distance along the light for a shadow map); it is
interpolated as 1/z, which is exact for perspective projection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: Pixels a single triangle may cover before it is skipped (protects memory from degenerate input).
MAX_TRIANGLE_PIXELS = 1 << 20


@dataclass(frozen=True)
class Fragments:
    """The nearest surface per pixel.

    triangle: ``(H, W)`` int32, index into the faces passed in, −1 where nothing was drawn.
    barycentric: ``(H, W, 3)`` float32 weights of the triangle's three vertices (screen space; 0 when empty).
    depth: ``(H, W)`` float32 interpolated depth, ``+inf`` where nothing was drawn.
    """

    triangle: NDArray[np.int32]
    barycentric: NDArray[np.float32]
    depth: NDArray[np.float32]

    @property
    def mask(self) -> NDArray[np.bool_]:
        """``(H, W)`` bool: pixels covered by a triangle."""
        return self.triangle >= 0


def rasterize(screen: NDArray[np.floating], faces: NDArray[np.integer], width: int, height: int) -> Fragments:
    """Rasterise triangles with a z-buffer.

    screen: ``(V, 3)`` vertex positions ``(x, y, depth)`` in pixels/depth units; depth must be > 0 for a
    triangle to be drawn. faces: ``(F, 3)`` vertex indices (either winding). Returns :class:`Fragments`.
    """
    pts = np.asarray(screen, dtype=np.float64)
    tris = np.asarray(faces, dtype=np.int64)
    empty = Fragments(
        triangle=np.full((height, width), -1, np.int32),
        barycentric=np.zeros((height, width, 3), np.float32),
        depth=np.full((height, width), np.inf, np.float32),
    )
    if len(tris) == 0:
        return empty
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    xs = np.stack([a[:, 0], b[:, 0], c[:, 0]], 1)
    ys = np.stack([a[:, 1], b[:, 1], c[:, 1]], 1)
    zs = np.stack([a[:, 2], b[:, 2], c[:, 2]], 1)
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])
    # column-wise minimum/maximum (much faster than reductions over a length-3 axis)
    with np.errstate(invalid="ignore"):
        x_lo = np.clip(np.ceil(np.minimum(np.minimum(a[:, 0], b[:, 0]), c[:, 0]) - 0.5), 0, width - 1)
        x_hi = np.clip(np.floor(np.maximum(np.maximum(a[:, 0], b[:, 0]), c[:, 0]) - 0.5), -1, width - 1)
        y_lo = np.clip(np.ceil(np.minimum(np.minimum(a[:, 1], b[:, 1]), c[:, 1]) - 0.5), 0, height - 1)
        y_hi = np.clip(np.floor(np.maximum(np.maximum(a[:, 1], b[:, 1]), c[:, 1]) - 0.5), -1, height - 1)
    finite = np.isfinite(area) & np.isfinite(x_lo) & np.isfinite(x_hi) & np.isfinite(y_lo) & np.isfinite(y_hi)
    x_lo, x_hi, y_lo, y_hi = (np.where(finite, v, 0).astype(np.int64) for v in (x_lo, x_hi, y_lo, y_hi))
    box_w = x_hi - x_lo + 1
    box_h = y_hi - y_lo + 1
    z_min = np.minimum(np.minimum(a[:, 2], b[:, 2]), c[:, 2])
    keep = (
        finite
        & (box_w > 0)
        & (box_h > 0)
        & (np.abs(area) > 1e-12)
        & (z_min > 0)
        & (box_w * box_h <= MAX_TRIANGLE_PIXELS)
    )
    ids = np.nonzero(keep)[0]
    if len(ids) == 0:
        return empty
    counts = (box_w * box_h)[ids]
    tri = np.repeat(np.arange(len(ids)), counts)
    starts = np.cumsum(counts) - counts
    local = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    bw = box_w[ids][tri]
    px = x_lo[ids][tri] + local % bw
    py = y_lo[ids][tri] + local // bw
    cx = px + 0.5
    cy = py + 0.5
    sel = ids[tri]
    tx, ty, inv_area = xs[sel], ys[sel], 1.0 / area[sel]
    w0 = ((tx[:, 1] - cx) * (ty[:, 2] - cy) - (tx[:, 2] - cx) * (ty[:, 1] - cy)) * inv_area
    w1 = ((tx[:, 2] - cx) * (ty[:, 0] - cy) - (tx[:, 0] - cx) * (ty[:, 2] - cy)) * inv_area
    w2 = 1.0 - w0 - w1
    eps = -1e-9
    inside = (w0 >= eps) & (w1 >= eps) & (w2 >= eps)
    if not inside.any():
        return empty
    w0, w1, w2, sel = w0[inside], w1[inside], w2[inside], sel[inside]
    pix = py[inside] * width + px[inside]
    tz = zs[sel]
    inv_depth = w0 / tz[:, 0] + w1 / tz[:, 1] + w2 / tz[:, 2]
    depth = 1.0 / inv_depth
    lo, hi = float(depth.min()), float(depth.max())
    key = pix + (depth - lo) / ((hi - lo) * 1.0001 + 1e-30)
    order = np.argsort(key, kind="stable")
    pix_sorted = pix[order]
    first = np.ones(len(order), bool)
    first[1:] = pix_sorted[1:] != pix_sorted[:-1]
    win = order[first]
    target = pix[win]
    triangle = empty.triangle.reshape(-1).copy()
    bary = empty.barycentric.reshape(-1, 3).copy()
    zbuf = empty.depth.reshape(-1).copy()
    triangle[target] = sel[win]
    bary[target] = np.stack([w0[win], w1[win], w2[win]], 1)
    zbuf[target] = depth[win]
    return Fragments(
        triangle=triangle.reshape(height, width),
        barycentric=bary.reshape(height, width, 3),
        depth=zbuf.reshape(height, width),
    )


def rasterize_brute_force(
    screen: NDArray[np.floating], faces: NDArray[np.integer], width: int, height: int
) -> Fragments:
    """Reference implementation: loops over every pixel and every triangle (tiny scenes only)."""
    pts = np.asarray(screen, dtype=np.float64)
    triangle = np.full((height, width), -1, np.int32)
    bary = np.zeros((height, width, 3), np.float32)
    zbuf = np.full((height, width), np.inf, np.float32)
    for row in range(height):
        for col in range(width):
            cx, cy = col + 0.5, row + 0.5
            best = np.inf
            for index, (i, j, k) in enumerate(np.asarray(faces)):
                (ax, ay, az), (bx, by, bz), (qx, qy, qz) = pts[i], pts[j], pts[k]
                area = (bx - ax) * (qy - ay) - (qx - ax) * (by - ay)
                if abs(area) <= 1e-12 or min(az, bz, qz) <= 0:
                    continue
                u = ((bx - cx) * (qy - cy) - (qx - cx) * (by - cy)) / area
                v = ((qx - cx) * (ay - cy) - (ax - cx) * (qy - cy)) / area
                w = 1.0 - u - v
                if min(u, v, w) < -1e-9:
                    continue
                depth = 1.0 / (u / az + v / bz + w / qz)
                if depth < best:
                    best = depth
                    triangle[row, col] = index
                    bary[row, col] = (u, v, w)
                    zbuf[row, col] = depth
    return Fragments(triangle=triangle, barycentric=bary, depth=zbuf)


def interpolate(
    fragments: Fragments, faces: NDArray[np.integer], attributes: NDArray[np.floating]
) -> NDArray[np.float32]:
    """Interpolate per-vertex ``attributes`` ``(V, C)`` at covered pixels → ``(M, C)`` float32,
    in the row-major order of ``np.nonzero(fragments.mask)``."""
    mask = fragments.mask
    tri_vertices = np.asarray(faces)[fragments.triangle[mask]]
    weights = fragments.barycentric[mask]
    attr = np.asarray(attributes, dtype=np.float32)
    return np.asarray(
        attr[tri_vertices[:, 0]] * weights[:, :1]
        + attr[tri_vertices[:, 1]] * weights[:, 1:2]
        + attr[tri_vertices[:, 2]] * weights[:, 2:3],
        dtype=np.float32,
    )
