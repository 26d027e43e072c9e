"""Posing the Anny body bank: bone rotations from DeepMimic links, world-orient FK and LBS skinning.

World frame: metres, Z up; in rest pose the body faces −Y and its right side is at −X. A bone's world
rotation ``G`` maps rest-pose world directions to posed ones; its transform is
``T_c = [G_c | T_p(h_c) − G_c h_c]`` (``h_c`` the rest head) so the posed head of bone c is ``T_p(h_c)``.
Joints and mesh come from the same transforms, so the annotations are exact by construction.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posebrowser.pose import skeleton as sk
from posebrowser.synth import fk
from posebrowser.synth.assets import BodyBankArrays, load_body_bank

FloatArray = NDArray[np.float64]

_DOWN = np.array([0.0, 0.0, -1.0])
#: Thesis joint → Anny bone whose posed head is that joint (head_top comes from a vertex).
JOINT_BONES: dict[int, str] = {
    sk.R_ANKLE: "foot.R",
    sk.R_KNEE: "lowerleg01.R",
    sk.R_HIP: "upperleg01.R",
    sk.L_HIP: "upperleg01.L",
    sk.L_KNEE: "lowerleg01.L",
    sk.L_ANKLE: "foot.L",
    sk.PELVIS: "root",
    sk.THORAX: "neck01",
    sk.UPPER_NECK: "head",
    sk.R_WRIST: "wrist.R",
    sk.R_ELBOW: "lowerarm01.R",
    sk.R_SHOULDER: "upperarm01.R",
    sk.L_SHOULDER: "upperarm01.L",
    sk.L_ELBOW: "lowerarm01.L",
    sk.L_WRIST: "wrist.L",
}


@dataclass(frozen=True)
class _Drive:
    """How one directly driven bone gets its rotation: slerp(link_a, link_b, t) · C, with C the
    minimal rotation taking the rest segment (from_bone → to_bone) straight down, or identity."""

    bone: int
    link_a: int
    link_b: int
    t: float
    segment: tuple[int, int] | None


class BodyModel:
    """The body bank plus precomputed rig data; thread-safe to share (read-only after construction)."""

    def __init__(self, arrays: BodyBankArrays) -> None:
        self.arrays = arrays
        names = arrays.bone_names
        self.bone_index = {name: i for i, name in enumerate(names)}
        self.parents = arrays.bone_parents.astype(np.int64)
        self.body_count = int(arrays.rest_vertices.shape[0])
        self.faces = arrays.faces
        # skin weights by column: (9, V) bone indices and (9, V, 1) weights, contiguous per column
        self._skin_indices = np.ascontiguousarray(arrays.vertex_bone_indices.T.astype(np.intp))
        self._skin_weights = np.ascontiguousarray(arrays.vertex_bone_weights.T[:, :, None])
        bone_count = len(names)
        self.drives = self._make_drives()
        driven = {d.bone for d in self.drives}
        self.driver = np.arange(bone_count)
        for bone in range(bone_count):
            if bone not in driven:
                self.driver[bone] = self.driver[self.parents[bone]]
        depth = np.zeros(bone_count, np.int64)
        for bone in range(1, bone_count):
            depth[bone] = depth[self.parents[bone]] + 1
        self.levels = [np.nonzero(depth == level)[0] for level in range(1, int(depth.max()) + 1)]
        self.corrections = self._make_corrections()
        self.joint_bones = np.array(
            [self.bone_index[JOINT_BONES[j]] if j in JOINT_BONES else 0 for j in range(16)]
        )
        # a subset of vertices that finds the lowest point of a posed body to within about a centimetre
        self.support_vertices = np.arange(0, arrays.rest_vertices.shape[1], 5)

    def _make_drives(self) -> list[_Drive]:
        link = fk.LINK_INDEX
        b = self.bone_index
        drives = [_Drive(b["root"], link["root"], link["root"], 0.0, None)]
        for i, name in enumerate(("spine05", "spine04", "spine03", "spine02", "spine01")):
            drives.append(_Drive(b[name], link["root"], link["chest"], i / 4, None))
        for name, t in (("neck01", 0.5), ("neck02", 0.75), ("neck03", 1.0), ("head", 1.0)):
            drives.append(_Drive(b[name], link["chest"], link["neck"], t, None))
        for side, full in (("R", "right"), ("L", "left")):
            thigh = (b[f"upperleg01.{side}"], b[f"lowerleg01.{side}"])
            shin = (b[f"lowerleg01.{side}"], b[f"foot.{side}"])
            upper_arm = (b[f"upperarm01.{side}"], b[f"lowerarm01.{side}"])
            forearm = (b[f"lowerarm01.{side}"], b[f"wrist.{side}"])
            for bone, lk, seg in (
                ("upperleg01", "hip", thigh),
                ("lowerleg01", "knee", shin),
                ("foot", "ankle", shin),
                ("upperarm01", "shoulder", upper_arm),
                ("lowerarm01", "elbow", forearm),
                ("wrist", "elbow", forearm),
            ):
                index = link[f"{full}_{lk}"]
                drives.append(_Drive(b[f"{bone}.{side}"], index, index, 0.0, seg))
        return drives

    def _make_corrections(self) -> NDArray[np.float64]:
        """``(K, D, 3, 3)`` rest corrections C per body and drive."""
        heads = self.arrays.rest_bone_heads.astype(np.float64)
        out = np.tile(np.eye(3), (self.body_count, len(self.drives), 1, 1))
        for body in range(self.body_count):
            for i, drive in enumerate(self.drives):
                if drive.segment is not None:
                    start, end = drive.segment
                    out[body, i] = fk.rotation_between(heads[body, end] - heads[body, start], _DOWN)
        return out

    def bone_rotations(self, body: int, link_world: NDArray[np.floating]) -> FloatArray:
        """World link rotations ``(13, 3, 3)`` (posebrowser world frame) → bone rotations ``(B, 3, 3)``."""
        links = np.asarray(link_world, dtype=np.float64)
        rot = np.empty((len(self.parents), 3, 3))
        for i, drive in enumerate(self.drives):
            base = links[drive.link_a]
            if drive.link_b != drive.link_a and drive.t > 0:
                base = fk.slerp_matrix(links[drive.link_a], links[drive.link_b], drive.t)
            rot[drive.bone] = base @ self.corrections[body, i]
        return np.asarray(rot[self.driver])

    def bone_transforms(
        self, body: int, rotations: NDArray[np.floating], root_position: NDArray[np.floating]
    ) -> tuple[FloatArray, FloatArray]:
        """World-orient FK: (transforms ``(B, 3, 4)``, posed bone heads ``(B, 3)``), metres."""
        heads = self.arrays.rest_bone_heads[body].astype(np.float64)
        rot = np.asarray(rotations, dtype=np.float64)
        posed = np.empty_like(heads)
        trans = np.empty_like(heads)
        posed[0] = np.asarray(root_position, dtype=np.float64)
        trans[0] = posed[0] - rot[0] @ heads[0]
        for level in self.levels:
            parent = self.parents[level]
            posed[level] = np.einsum("bij,bj->bi", rot[parent], heads[level]) + trans[parent]
            trans[level] = posed[level] - np.einsum("bij,bj->bi", rot[level], heads[level])
        return np.concatenate([rot, trans[:, :, None]], axis=2), posed

    def skin(
        self, body: int, transforms: NDArray[np.floating], vertices: NDArray[np.integer] | None = None
    ) -> FloatArray:
        """Linear blend skinning of body ``body`` → posed vertices ``(V, 3)`` (or of the given subset)."""
        rest = self.arrays.rest_vertices[body]
        indices, weights = self._skin_indices, self._skin_weights
        if vertices is not None:
            rest, indices, weights = rest[vertices], indices[:, vertices], weights[:, vertices]
        flat = np.asarray(transforms, dtype=np.float32).reshape(-1, 12)
        blended = np.zeros((len(rest), 12), np.float32)
        for k in range(len(indices)):  # elementwise, so results never depend on BLAS threading
            blended += weights[k] * flat[indices[k]]
        matrix = blended.reshape(-1, 3, 4)
        posed = np.einsum("vij,vj->vi", matrix[:, :, :3], rest) + matrix[:, :, 3]
        return np.asarray(posed, dtype=np.float64)

    def joints(self, body: int, transforms: NDArray[np.floating], heads: NDArray[np.floating]) -> FloatArray:
        """The 16 thesis joints ``(16, 3)`` (skeleton order) from posed bone heads and the head-top vertex."""
        out = np.asarray(heads, dtype=np.float64)[self.joint_bones].copy()
        top = self.arrays.head_top_vertex[body : body + 1]
        out[sk.HEAD_TOP] = self.skin(body, transforms, top)[0]
        return np.asarray(out, dtype=np.float64)

    def vertex_normals(self, vertices: NDArray[np.floating]) -> NDArray[np.float32]:
        """Area-weighted unit vertex normals ``(V, 3)`` float32 of a posed mesh."""
        v = np.asarray(vertices, dtype=np.float32)
        f = self.faces
        face_normals = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
        flat = f.reshape(-1)
        normals: NDArray[np.float64] = np.stack(
            [np.bincount(flat, np.repeat(face_normals[:, k], 3), minlength=len(v)) for k in range(3)], 1
        ).astype(np.float64)
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
        return normals.astype(np.float32)


def shaped_body_model(
    model: BodyModel, first: int, second: int, weight: float, height: float, girth: float
) -> BodyModel:
    """A one-body model from the continuous shape space the bank spans: rest meshes and skeletons of
    bodies ``first`` and ``second`` blended ``(1 − weight)·first + weight·second`` (same topology and rig),
    then scaled by ``height`` vertically (from the floor) and ``girth`` horizontally (about the pelvis)."""
    bank = model.arrays
    scale = np.array([girth, girth, height], np.float32)

    def blend(values: NDArray[np.float32]) -> NDArray[np.float32]:
        mixed = (1.0 - weight) * values[first] + weight * values[second]
        return np.asarray(mixed, np.float32)

    heads = blend(bank.rest_bone_heads)
    pivot = np.array([heads[0, 0], heads[0, 1], 0.0], np.float32)
    arrays = dataclasses.replace(
        bank,
        rest_vertices=((blend(bank.rest_vertices) - pivot) * scale + pivot)[None],
        rest_bone_heads=((heads - pivot) * scale + pivot)[None],
        head_top_vertex=bank.head_top_vertex[first : first + 1],
    )
    return BodyModel(arrays)


@functools.lru_cache(maxsize=1)
def default_body_model() -> BodyModel:
    """The body model built from the shipped body bank (cached per process)."""
    return BodyModel(load_body_bank())


def links_to_world(link_world_dm: NDArray[np.floating]) -> FloatArray:
    """DeepMimic-frame world link rotations ``(..., 13, 3, 3)`` → posebrowser world frame (``M R Mᵀ``)."""
    m = fk.DM_TO_WORLD
    return np.asarray(m @ np.asarray(link_world_dm, dtype=np.float64) @ m.T)
