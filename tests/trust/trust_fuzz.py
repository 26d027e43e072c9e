"""Property-based fuzz targets: a hypothesis strategy per input kind and a reader that feeds one drawn
value to posebrowser the way the app would. Used by ``test_trust_fuzz.py`` (small) and
``benchmarks/trust_report.py --full`` (large).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from trust_corpus import encode, make_image_folder, sample_image, write_gallery
from trust_outcome import Tally, classify


@dataclass(frozen=True)
class FuzzTarget:
    name: str
    strategy: st.SearchStrategy[Any]
    read: Callable[[Any], Any]


json_scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=True) | \
    st.text(max_size=12)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A valid file with some bytes overwritten, a slice removed and/or the tail cut off."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 6))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        start = draw(st.integers(0, len(data)))
        del data[start:start + draw(st.integers(0, 64))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def image_seeds() -> list[bytes]:
    picture = sample_image(20, 12)
    return [encode(picture, "PNG"), encode(picture, "JPEG"), encode(picture.convert("P"), "GIF"),
            encode(picture, "WEBP"), encode(picture, "BMP"), encode(picture.convert("RGBA"), "TIFF"),
            encode(picture.convert("L"), "PNG")]


def csv_text(names: list[str]) -> st.SearchStrategy[str]:
    cell = st.sampled_from(["1", "0", "", " ", "2", "x", '"', "split", "train", *names, "../a.png"])
    row = st.lists(cell, min_size=0, max_size=5).map(",".join)
    return st.lists(row, max_size=6).map("\n".join) | st.text(max_size=80)


def coco_document(names: list[str]) -> st.SearchStrategy[Any]:
    ids = st.integers(0, 3) | json_values
    image = st.fixed_dictionaries({"id": ids, "file_name": st.sampled_from([*names, "../x.png", ""]) |
                                   json_values})
    keypoints = st.lists(st.floats(allow_nan=True) | st.integers(-5, 5) | json_scalars, max_size=54)
    annotation = st.fixed_dictionaries({"image_id": ids, "keypoints": keypoints | json_values},
                                       optional={"area": json_scalars, "iscrowd": json_scalars})
    return st.fixed_dictionaries({"images": st.lists(image | json_values, max_size=3),
                                  "annotations": st.lists(annotation | json_values, max_size=3)})


def fuzz_targets(folder: Path) -> list[FuzzTarget]:
    """Every fuzz target, with its scratch files under ``folder``."""
    from posebrowser.data.images import decode_image
    from posebrowser.data.loading import open_gallery

    names = make_image_folder(folder / "csv")
    coco_root = folder / "coco"
    make_image_folder(coco_root)
    gallery_root = write_gallery(folder / "gallery")
    annotations = (gallery_root / "annotations.npz").read_bytes()
    manifest = json.loads((gallery_root / "manifest.json").read_text())

    def read_csv(text: str) -> Any:
        (folder / "csv" / "metadata.csv").write_text(text, encoding="utf-8", errors="surrogatepass")
        return open_gallery(folder / "csv")

    def read_coco(document: Any) -> Any:
        (coco_root / "keypoints.json").write_text(json.dumps(document))
        return open_gallery(coco_root)

    def read_npz(data: bytes) -> Any:
        (gallery_root / "annotations.npz").write_bytes(data)
        return open_gallery(gallery_root)

    def read_manifest(changes: dict[str, Any]) -> Any:
        (gallery_root / "annotations.npz").write_bytes(annotations)
        (gallery_root / "manifest.json").write_text(json.dumps({**manifest, **changes}))
        return open_gallery(gallery_root)

    targets = [
        FuzzTarget("image bytes", mutated_bytes(image_seeds()), lambda data: decode_image(data, 16)),
        FuzzTarget("random bytes as image", st.binary(max_size=256), lambda data: decode_image(data)),
        FuzzTarget("metadata.csv", csv_text(names), read_csv),
        FuzzTarget("coco json", coco_document(names), read_coco),
        FuzzTarget("annotations.npz", mutated_bytes([annotations]), read_npz),
        FuzzTarget("manifest.json", st.dictionaries(st.sampled_from(
            ["format", "format_version", "count", "content_hash", "name"]), json_values, max_size=3),
            read_manifest),
    ]
    targets += _optional_targets(folder)
    return targets


def _optional_targets(folder: Path) -> list[FuzzTarget]:
    """Targets for areas that may not exist yet (query parser, checkpoints, sessions)."""
    targets: list[FuzzTarget] = []
    try:
        from posebrowser.core.query_parser import parse_query
        from posebrowser.pose.posebits import get_vocabulary
    except ImportError:
        pass
    else:
        vocabulary = get_vocabulary()
        tokens = st.sampled_from(["[", "]", "{", "}", "img", " ", "+", "-", "*", "=", ",", "0", "1", "2.5",
                                  "e9", "file:", "mask", "full", "conditional", ".", *vocabulary.names[:5],
                                  *(bit.label for bit in vocabulary.bits[:5])])
        names = st.sampled_from([*vocabulary.names[:8], *(bit.label for bit in vocabulary.bits[:8])])
        condition = st.tuples(names, st.sampled_from(["", "=0", "=1", "=2", "="])).map("".join)
        body = st.from_regex(r"img ?-?[0-9]{1,12}", fullmatch=True) | \
            st.lists(condition, min_size=1, max_size=3).map(", ".join)
        weight = st.sampled_from(["", "2*", "0.5*", "-1*", "1e308*", "0*", "inf*", ".*"])
        mode = st.sampled_from(["", "{mask}", "{full}", "{conditional}", "{x}"])
        term = st.tuples(weight, body, mode).map(lambda t: f"{t[0]}[{t[1]}]{t[2]}")
        structured = st.lists(st.tuples(st.sampled_from([" + ", " - ", "+", " "]), term), min_size=1,
                              max_size=4).map(lambda parts: "".join(op + t for op, t in parts).lstrip(" +"))
        query = structured | st.lists(tokens, max_size=14).map("".join) | st.text(max_size=40)
        targets.append(FuzzTarget("query expression", query, lambda text: parse_query(text, vocabulary)))
    try:
        from posebrowser.nets.checkpoint import ModelCard, load_model, save_model
        from posebrowser.nets.registry import build_net
    except ImportError:
        pass
    else:
        card = save_model(folder / "model" / "mask", build_net("embedding_mask", dim=8),
                          ModelCard(net="embedding_mask", config={"dim": 8}, kind="mask"))
        good = json.loads(card.to_json())

        def read_card(changes: dict[str, Any]) -> Any:
            (folder / "model" / "mask.json").write_text(json.dumps({**good, **changes}))
            return load_model(folder / "model" / "mask")

        fields = st.sampled_from(["net", "config", "kind", "embedding_dim", "posebit_names", "sha256",
                                  "metrics", "preprocessing", "posebit_version", "bogus"])
        targets.append(FuzzTarget("model card", st.dictionaries(fields, json_values, max_size=3), read_card))
    try:
        from posebrowser.gui.session_io import read_session
    except ImportError:
        pass
    else:
        def read_session_document(document: Any) -> Any:
            path = folder / "session" / "s.pbsession"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document))
            return read_session(path)

        base = {"format": "posebrowser-session", "version": 1}
        keys = st.sampled_from(["gallery", "query", "conditions", "settings", "selection"])
        session = st.dictionaries(keys, json_values, max_size=4).map(lambda d: {**base, **d})
        targets.append(FuzzTarget("session file", session, read_session_document))
    return targets



def run_target(target: FuzzTarget, examples: int, tally: Tally | None = None, *, seed: int = 0) -> None:
    """Feed ``examples`` drawn values to ``target`` (seeded, reproducible).

    Without ``tally`` the first crash, hang or leak fails (hypothesis shrinks it to a minimal input);
    with one, every outcome is counted and the run goes on.
    """

    @settings(max_examples=examples, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(value=target.strategy)
    def feed(value: Any) -> None:
        outcome, detail = classify(lambda: target.read(value), limit_s=20.0)
        if tally is not None:
            tally.add(target.name, outcome, f"{value!r:.200}: {detail}")
        else:
            assert outcome in ("ok", "refused"), f"{target.name}: {outcome} on {value!r:.300}\n{detail}"

    feed()
