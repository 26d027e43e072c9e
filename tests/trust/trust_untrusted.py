"""Untrusted files: checkpoints, model cards, session files and pickles that would run code.

:func:`malicious_pickle_files` writes *real* malicious pickles — loading any of them with plain
``pickle``/``torch.load(weights_only=False)`` creates ``marker`` (proved in a subprocess by the tests);
posebrowser's loaders must refuse them and the marker must never appear.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from trust_corpus import Case, npy_claiming


class CreatesMarker:
    """Unpickling this object calls ``os.system("touch <marker>")`` — arbitrary code execution."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.system, (f"touch '{self.marker}'",))


def malicious_pickle_files(folder: Path, marker: Path) -> dict[str, Path]:
    """name → file: torch zip checkpoint, legacy raw pickle, nested state_dict, .npy object array."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    evil = CreatesMarker(marker)
    files = {
        "torch_zip": folder / "model_6.pth",
        "raw_pickle": folder / "legacy.pth",
        "nested_state_dict": folder / "nested.pth",
        "training_checkpoint": folder / "training.pt",
        "numpy_object": folder / "mask.npy",
        "pickle_named_safetensors": folder / "evil.safetensors",
    }
    torch.save({"fc1.weight": evil}, files["torch_zip"])
    files["raw_pickle"].write_bytes(pickle.dumps({"fc1.weight": evil}, protocol=2))
    torch.save({"state_dict": {"conv1.weight": evil}}, files["nested_state_dict"])
    torch.save({"epoch": 1, "model": evil, "optimizer": {}, "rng": {}, "history": {}, "config": {}},
               files["training_checkpoint"])
    np.save(files["numpy_object"], np.array([evil], dtype=object), allow_pickle=True)
    files["pickle_named_safetensors"].write_bytes(pickle.dumps(evil))
    return files


def malicious_cases(folder: Path, marker: Path) -> list[Case]:
    """Every loader that reads weights, given every malicious file it could meet: all must refuse."""
    import torch

    from posebrowser.nets import thesis_checkpoint as thesis
    from posebrowser.nets.checkpoint import ModelCard, load_model
    from posebrowser.training.loop import load_training_state

    files = malicious_pickle_files(folder, marker)
    card = ModelCard(net="embedding_mask", config={"dim": 128}, kind="mask")
    (folder / "evil.json").write_text(card.to_json())
    cases: list[Case] = []
    for name in ("torch_zip", "raw_pickle", "nested_state_dict"):
        path = files[name]
        cases.append(Case("malicious pickle", f"thesis state_dict ({name})",
                          lambda p=path: thesis.load_thesis_state_dict(p), "refused"))
        cases.append(Case("malicious pickle", f"thesis posebit ({name})",
                          lambda p=path: thesis.load_thesis_posebit_checkpoint(p), "refused"))
    cases.append(Case("malicious pickle", "thesis image checkpoint",
                      lambda: thesis.load_thesis_image_checkpoint(files["torch_zip"]), "refused"))
    cases.append(Case("malicious pickle", "thesis mask .npy",
                      lambda: thesis.load_thesis_mask(files["numpy_object"]), "refused"))
    cases.append(Case("malicious pickle", "thesis mask .pth",
                      lambda: thesis.load_thesis_mask(files["raw_pickle"]), "refused"))
    cases.append(Case("malicious pickle", "model card + pickled .safetensors",
                      lambda: load_model(folder / "evil.json"), "refused"))

    def training() -> Any:
        model = torch.nn.Linear(2, 2)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        return load_training_state(files["training_checkpoint"], model=model, optimizer=optimizer,
                                   scheduler=None, numpy_rng=np.random.default_rng(0))

    cases.append(Case("malicious pickle", "training checkpoint", training, "refused"))
    return cases


# ------------------------------------------------------------------------------ checkpoints + cards
def checkpoint_cases(folder: Path) -> list[Case]:
    from posebrowser.nets.checkpoint import ModelCard, load_model, read_card, save_model
    from posebrowser.nets.registry import build_net

    folder.mkdir(parents=True, exist_ok=True)
    card = ModelCard(net="embedding_mask", config={"dim": 128}, kind="mask", posebit_version="v1")
    written = save_model(folder / "good", build_net("embedding_mask", dim=128), card)
    good = json.loads(written.to_json())
    weights = (folder / "good.safetensors").read_bytes()
    cases = [Case("checkpoint", "valid", lambda: load_model(folder / "good"), "ok"),
             Case("checkpoint", "wrong kind", lambda: load_model(folder / "good", expect_kind="image"),
                  "refused"),
             Case("checkpoint", "other vocabulary",
                  lambda: load_model(folder / "good", expect_posebit_version="v2"), "refused"),
             Case("checkpoint", "missing", lambda: load_model(folder / "absent"), "refused")]
    cards: dict[str, Any] = {
        "not_json": "{", "list": "[]", "missing_fields": {"net": "embedding_mask"},
        "unknown_field": {**good, "evil": 1}, "unknown_net": {**good, "net": "resnet9000"},
        "bad_kind": {**good, "kind": "weights"}, "config_negative": {**good, "config": {"dim": -5}},
        "config_string": {**good, "config": {"dim": "x"}}, "config_unknown_key": {**good, "config": {"q": 1}},
        "config_not_dict": {**good, "config": [1]}, "dim_mismatch": {**good, "config": {"dim": 64}},
        "other_architecture": {**good, "net": "posebit_mlp", "kind": "mask",
                               "config": {"num_bits": 4, "hidden": 8, "hidden2": 8}},
        "names_not_strings": {**good, "posebit_names": [1, 2]}, "sha_not_string": {**good, "sha256": 5},
        "embedding_dim_zero": {**good, "embedding_dim": 0}, "null_card": "null",
    }
    for name, document in cards.items():
        stem = folder / f"card_{name}"
        (folder / f"card_{name}.safetensors").write_bytes(weights)
        text = document if isinstance(document, str) else json.dumps(document)
        (folder / f"card_{name}.json").write_text(text)
        cases.append(Case("model card", name, lambda s=stem: load_model(s), "refused"))
        cases.append(Case("model card", f"{name} (read_card)", lambda s=stem: read_card(s), "either"))
    damaged = {
        "truncated_weights": weights[: len(weights) // 2], "zero_weights": b"",
        "flipped_weights": weights[:-8] + b"\x00" * 8, "text_weights": b"not safetensors",
    }
    for name, data in damaged.items():
        for with_hash in (False, True):
            label = f"{name} ({'matching' if with_hash else 'stale'} sha256)"
            stem = folder / f"weights_{name}_{with_hash}"
            (folder / f"{stem.name}.safetensors").write_bytes(data)
            sha = __import__("hashlib").sha256(data).hexdigest() if with_hash else good["sha256"]
            (folder / f"{stem.name}.json").write_text(json.dumps({**good, "sha256": sha}))
            # Damaged tensor bytes with a matching hash are still a valid file (other weights).
            expect = "either" if with_hash and name == "flipped_weights" else "refused"
            cases.append(Case("checkpoint", label, lambda s=stem: load_model(s), expect))
    from posebrowser.nets.thesis_checkpoint import load_thesis_mask

    (folder / "huge_mask.npy").write_bytes(npy_claiming((1, 10**14)))
    cases.append(Case("checkpoint", "mask .npy claiming 373 TiB",
                      lambda: load_thesis_mask(folder / "huge_mask.npy"), "refused"))
    return cases


# ---------------------------------------------------------------------------------------- sessions
def session_documents(outside: Path) -> dict[str, tuple[Any, str]]:
    """name → (session document (object or raw text), expected outcome of read_session)."""
    base = {"format": "posebrowser-session", "version": 1, "gallery": None, "query": [], "conditions": {},
            "settings": {"partial_method": "conditional"}, "selection": []}
    return {
        "valid": (base, "ok"),
        "empty_file": ("", "refused"),
        "not_json": ("{", "refused"),
        "binary": (b"\x00\xff\xfe", "refused"),
        "list": ("[]", "refused"),
        "foreign_format": ({**base, "format": "other"}, "refused"),
        "future_version": ({**base, "version": 2}, "refused"),
        "gallery_escapes": ({**base, "gallery": "../../../../etc"}, "refused"),
        "gallery_nul": ({**base, "gallery": "a\x00b"}, "refused"),
        "gallery_number": ({**base, "gallery": 5}, "refused"),
        "image_path_escapes": ({**base, "query": [{"type": "image", "path": "../../secret.png"}]}, "refused"),
        "image_path_absolute": ({**base, "query": [{"type": "image", "path": str(outside)}]}, "ok"),
        "term_unknown_type": ({**base, "query": [{"type": "shell", "cmd": "rm"}]}, "refused"),
        "term_not_dict": ({**base, "query": ["x"]}, "refused"),
        "query_number": ({**base, "query": 5}, "refused"),
        "query_null": ({**base, "query": None}, "refused"),
        "settings_list": ({**base, "settings": [1]}, "refused"),
        "settings_bad_method": ({**base, "settings": {"partial_method": "rm -rf"}}, "refused"),
        "settings_unhashable": ({**base, "settings": {"split": ["x"]}}, "refused"),
        "colour_bad": ({**base, "settings": {"colour_by": "distance:nope"}}, "refused"),
        "deep_nesting": ('{"format": "posebrowser-session", "version": 1, "x": ' + "[" * 100000 +
                         "]" * 100000 + "}", "either"),
    }


def session_cases(folder: Path) -> list[Case]:
    from posebrowser.gui.session_io import read_session

    folder.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, (document, expect) in session_documents(folder.parent / "elsewhere.png").items():
        path = folder / f"{name}.pbsession"
        raw = document if isinstance(document, str | bytes) else json.dumps(document)
        path.write_bytes(raw if isinstance(raw, bytes) else raw.encode())
        cases.append(Case("session file", name, lambda p=path: read_session(p), expect))
    cases.append(Case("session file", "missing", lambda: read_session(folder / "absent"), "refused"))
    return cases


# ---------------------------------------------------------------------------------- embedding cache
def cache_cases(folder: Path) -> list[Case]:
    """Damaged cache files: the cache recomputes (read-write) or raises CacheError (read-only)."""
    from posebrowser.core.cache import MERGED_NAME, CacheKey, EmbeddingCache

    def expected(start: int, stop: int) -> np.ndarray:
        return np.full((stop - start, 4), 0.5, np.float32)

    damages: dict[str, Any] = {
        "manifest_garbage": ("manifest.json", b"\xff{{not json"),
        "manifest_list": ("manifest.json", b"[1, 2]"),
        "merged_truncated": (MERGED_NAME, None),
        "merged_text": (MERGED_NAME, b"hello"),
        "merged_pickle": (MERGED_NAME, "pickle"),
        "merged_claims_tib": (MERGED_NAME, npy_claiming((10**12, 4))),
    }
    cases: list[Case] = []
    for name, (file_name, data) in damages.items():
        root = folder / name
        cache = EmbeddingCache(root, CacheKey("m", "g"), 10, 4, chunk_rows=4)
        cache.fill(expected)
        path = cache.directory / file_name
        if data is None:
            path.write_bytes(path.read_bytes()[:100])
        elif data == "pickle":
            np.save(path, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        else:
            path.write_bytes(data)

        def reopen(root: Path = root, read_only: bool = False) -> Any:
            result = EmbeddingCache(root, CacheKey("m", "g"), 10, 4, chunk_rows=4, read_only=read_only).fill(
                expected)
            assert result is not None and np.array_equal(result, expected(0, 10))
            return result

        cases.append(Case("embedding cache", f"{name} (recompute)", reopen, "ok"))
        cases.append(Case("embedding cache", f"{name} (read-only)",
                          lambda root=root: reopen(root, read_only=True), "either"))
    return cases

