"""The PyInstaller spec: what it leaves out of the folder app is nothing the app needs (found by building:
``import torch`` fails without ``torch/bin/torch_shm_manager``), and it collects what import analysis
misses (mediapipe's ctypes-loaded ``libmediapipe.so``, openTSNE's ``_matrix_mul``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[1] / "packaging" / "posebrowser.spec"


def left_out_prefixes() -> tuple[str, ...]:
    """The spec's ``UNUSED`` tuple: bundle paths starting with one of these are dropped."""
    for node in ast.walk(ast.parse(SPEC.read_text())):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "UNUSED" for t in node.targets):
            value = ast.literal_eval(node.value)
            assert isinstance(value, tuple)
            return value
    raise AssertionError("the spec has no UNUSED tuple")


@pytest.mark.parametrize(
    "needed",
    [
        "torch/bin/torch_shm_manager",
        "torch/lib/libtorch_cpu.so",
        "torch/lib/libtorch_python.so",
        "mediapipe/tasks/c/libmediapipe.so",
        "resources/estimator/pose_landmarker_full.task",
        "resources/gallery/annotations.npz",
        "models/fused_net.safetensors",
        "models/embeddings/201e1279f16d8d00caac/embeddings.npy",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    ],
)
def test_nothing_the_app_needs_is_left_out(needed: str) -> None:
    assert not needed.startswith(left_out_prefixes())


@pytest.mark.parametrize(
    "unused",
    [
        "torch/test/test_jit",
        "torch/bin/protoc",
        "torch/bin/test_api",
        "torch/lib/libtorchbind_test.so",
        "PySide6/Qt/translations/qtbase_de.qm",
        "resources/screenshots/image-query.png",
        "models/embeddings/estimates/81a6b690413c3a8ce26e/0a1b.json",
    ],
)
def test_test_programs_translations_and_screenshots_are_left_out(unused: str) -> None:
    assert unused.startswith(left_out_prefixes())


def test_the_spec_collects_what_import_analysis_misses() -> None:
    """mediapipe's ctypes-loaded library and openTSNE's openTSNE._matrix_mul (imported from compiled code):
    without them the built app's pose estimator and t-SNE maps failed."""
    spec = SPEC.read_text()
    assert 'binaries += collect_dynamic_libs("mediapipe")' in spec and '"mediapipe.tasks.c"' in spec
    assert 'collect_submodules("openTSNE")' in spec
