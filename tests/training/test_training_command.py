"""``posebrowser train all --tiny`` on a small on-disk gallery: every model file is written and loadable."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

NAMES = ("left_wrist_above_head_top", "right_wrist_above_head_top", "pelvis_bent", "left_knee_bent")


def write_gallery(root: Path, count: int = 70, seed: int = 0) -> None:
    from posebrowser.data.gallery_format import save_annotations, write_manifest

    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    files = []
    for i in range(count):
        pixels = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
        name = f"images/{i:03d}.png"
        Image.fromarray(pixels).save(root / name)
        files.append(name)
    split = np.zeros(count, dtype=np.uint8)
    split[48:60], split[60:] = 1, 2
    save_annotations(
        root / "annotations.npz",
        {
            "files": np.asarray(files),
            "ids": np.arange(count, dtype=np.int64),
            "split": split,
            "posebits": rng.integers(0, 2, size=(count, len(NAMES))).astype(np.int8),
            "posebit_names": np.asarray(NAMES),
            "joints_3d": rng.normal(size=(count, 16, 3)).astype(np.float32),
        },
    )
    write_manifest(root, name="tiny", image_size=32, posebit_version="test-v1")


def _parse(argv: list[str]) -> argparse.Namespace:
    from posebrowser.training.command import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


@pytest.mark.slow  # 21 s on the 2-core reference machine under load
def test_train_all_tiny_writes_loadable_models(tmp_path: Path) -> None:
    from posebrowser.nets.checkpoint import load_model

    gallery = tmp_path / "gallery"
    write_gallery(gallery)
    out = tmp_path / "models"
    args = _parse(
        [
            "train",
            "all",
            "--tiny",
            "--gallery",
            str(gallery),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--quiet",
            "--metric",
            "3d",
            "--mirror-view",
        ]
    )
    assert args.func(args) == 0
    net, card = load_model(out / "image_net", expect_kind="image")
    assert card.training_data_hash and card.posebit_version == "test-v1"
    assert type(net).__name__ == "MirrorViewNet" and card.config["mirror_view"] is True
    assert card.metrics["mirror_view"]["fit_images"] == 48  # the whole tiny train split
    assert len(card.metrics["train_loss"]) == 1 and len(card.metrics["val_loss"]) == 1
    _, posebit_card = load_model(out / "posebit_net", expect_kind="posebit", expect_posebit_version="test-v1")
    assert posebit_card.posebit_names == list(NAMES)
    masks_card = json.loads((out / "masks.json").read_text())
    assert masks_card["kind"] == "mask" and (out / "masks.safetensors").stat().st_mode & 0o044 == 0o044
    from posebrowser.training.mask_trainer import SHIPPED_MASK_MARGIN

    assert masks_card["metrics"]["train_config"]["margin"] == SHIPPED_MASK_MARGIN
    assert (out / "training" / "image_loss.png").exists()
    # … then embed and evaluate with the models just trained (the whole loop on CPU).
    from posebrowser.core.command import register as register_core
    from posebrowser.evaluation.command import register as register_evaluate

    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    register_core(commands)
    register_evaluate(commands)
    common = ["--gallery", str(gallery), "--models", str(out), "--device", "cpu"]
    common += ["--cache-dir", str(tmp_path / "cache")]
    embed = parser.parse_args(["embed", *common, "--json"])
    assert embed.func(embed) == 0
    assert len(list((tmp_path / "cache").glob("*/embeddings.npy"))) == 1
    evaluate = parser.parse_args(["evaluate", *common, "--k-max", "5", "--out", str(tmp_path / "report")])
    assert evaluate.func(evaluate) == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    hits = next(t for t in report["tables"] if t["key"] == "hit@k/3d")
    assert {"image query", "image query (untrained net)", "chance"} <= set(hits["series"])
    assert report["meta"]["database_size"] == 10 and report["meta"]["query_count"] == 12


def test_train_reports_missing_ground_truth(tmp_path: Path) -> None:
    gallery = tmp_path / "gallery"
    write_gallery(gallery)
    args = _parse(
        [
            "train",
            "image",
            "--tiny",
            "--gallery",
            str(gallery),
            "--out",
            str(tmp_path / "m"),
            "--device",
            "cpu",
            "--quiet",
            "--metric",
            "2d",
        ]
    )
    assert args.func(args) == 1


def test_train_image_options_reach_the_trainer_and_the_card(tmp_path: Path) -> None:
    from posebrowser.nets.checkpoint import load_model

    gallery = tmp_path / "gallery"
    write_gallery(gallery)
    out = tmp_path / "m"
    argv = ["train", "image", "--gallery", str(gallery), "--out", str(out), "--device", "cpu", "--quiet"]
    argv += ["--net", "compact_resnet", "--max-train-images", "24", "--epochs", "1", "--batch-size", "8"]
    argv += ["--input-size", "40", "--log-ratio", "1", "--near-share", "0.5", "--aux-trunk-joints-3d", "2"]
    argv += ["--grey-share", "0.25"]
    args = _parse(argv)
    assert args.func(args) == 0
    _, card = load_model(out / "image_net", expect_kind="image")
    assert card.preprocessing["input_size"] == 40
    assert "log_ratio=1.0" in card.notes and "near_share=0.5" in card.notes
    assert "aux_trunk_joints_3d=2.0" in card.notes and "grey_share=0.25" in card.notes
    state = torch.load(out / "training" / "image_train_state.pt", weights_only=True)
    assert state["config"]["aux_trunk_joints_3d"] == 2.0
    assert state["config"]["augment_config"]["grey_probability"] == 0.25
    assert np.isfinite(card.metrics["train_loss"][0])
    # the masks' margin option reaches the masks card; a margin of 0 is refused before any work
    base = ["train", "masks", "--gallery", str(gallery), "--out", str(out), "--device", "cpu", "--quiet"]
    base += ["--max-train-images", "24"]
    margin_args = _parse([*base, "--mask-margin", "0.3"])
    assert margin_args.func(margin_args) == 0
    masks_card = json.loads((out / "masks.json").read_text())
    assert masks_card["metrics"]["train_config"]["margin"] == 0.3
    before = (out / "masks.safetensors").read_bytes()
    refused = _parse([*base, "--mask-margin", "0"])
    assert refused.func(refused) == 1
    assert (out / "masks.safetensors").read_bytes() == before  # nothing lost


def _train_compact_image_net(tmp_path: Path, max_images: int) -> tuple[Path, list[str], argparse.Namespace]:
    """A one-epoch compact image net on a small gallery in ``tmp_path``: (its models folder, the shared
    train arguments, the parsed ``train image`` command)."""
    gallery = tmp_path / "gallery"
    write_gallery(gallery)
    out = tmp_path / "m"
    base = ["--gallery", str(gallery), "--device", "cpu", "--quiet", "--max-train-images", str(max_images)]
    image = _parse(["train", "image", "--out", str(out), *base, "--net", "compact_resnet", "--epochs", "1"])
    assert image.func(image) == 0
    return out, base, image


def test_posebit_members_train_with_successive_seeds_into_one_ensemble(tmp_path: Path) -> None:
    import torch

    from posebrowser.nets.checkpoint import load_model

    out, base, _ = _train_compact_image_net(tmp_path, max_images=24)
    posebit = [*base, "--posebit-epochs", "2"]
    ensemble_args = _parse(["train", "posebit", "--out", str(out), *posebit, "--posebit-members", "2"])
    assert ensemble_args.func(ensemble_args) == 0
    ensemble, card = load_model(out / "posebit_net", expect_kind="posebit")
    assert card.net == "posebit_ensemble" and card.config["members"] == 2
    assert len(card.metrics["member_final_train_loss"]) == 2
    assert (out / "training" / "posebit-member-1" / "posebit_loss.png").exists()
    # the second member is the single net that seed 1 trains on its own
    alone = tmp_path / "alone"
    alone.mkdir()
    for name in ("image_net.json", "image_net.safetensors"):
        (alone / name).write_bytes((out / name).read_bytes())
    single_args = _parse(
        ["train", "posebit", "--out", str(alone), *posebit, "--posebit-members", "1", "--seed", "1"]
    )
    assert single_args.func(single_args) == 0
    single, single_card = load_model(alone / "posebit_net", expect_kind="posebit")
    assert single_card.net == "posebit_mlp"
    bits = torch.randint(0, 2, (6, len(NAMES))).float()
    with torch.no_grad():
        torch.testing.assert_close(ensemble.members[1](bits), single(bits))
        assert not torch.allclose(ensemble.members[0](bits), single(bits))


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_posebit_members_below_one_are_refused_before_any_work(bad: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _parse(["train", "all", "--out", str(tmp_path / "m"), "--posebit-members", bad])
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    "option",
    [
        "--lr",
        "--finetune-lr",
        "--aux-posebits",
        "--aux-joints-3d",
        "--aux-joints-2d",
        "--aux-trunk-joints-3d",
        "--log-ratio",
        "--uniformity",
        "--memory-weight",
    ],
)
@pytest.mark.parametrize("bad", ["-1e-3", "nan", "inf", "fast"])
def test_rates_and_loss_weights_that_are_negative_or_not_finite_are_refused_before_any_work(
    option: str, bad: str, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit):
        _parse(["train", "image", "--out", str(tmp_path / "m"), option, bad])
    assert not (tmp_path / "m").exists()
    assert _parse(["train", "image", option, "0"]).__dict__[option[2:].replace("-", "_")] == 0.0


def test_the_trunk_head_on_a_net_without_an_embedding_layer_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gallery = tmp_path / "gallery"
    write_gallery(gallery)
    argv = ["train", "image", "--gallery", str(gallery), "--out", str(tmp_path / "m"), "--tiny", "--quiet"]
    args = _parse([*argv, "--net", "thesis_vggs", "--aux-trunk-joints-3d", "1", "--device", "cpu"])
    assert args.func(args) == 1
    assert "has none (use efficientnet_lite0 or compact_resnet)" in capsys.readouterr().err
    assert not (tmp_path / "m" / "image_net.safetensors").exists()
    # the thesis net's input size is fixed: --input-size is refused by name (before: a TypeError traceback,
    # as was --tiny with this net)
    sized = _parse([*argv, "--net", "thesis_vggs", "--input-size", "64", "--device", "cpu"])
    assert sized.func(sized) == 1
    assert "--input-size cannot change it" in capsys.readouterr().err


def test_train_split_embeddings_are_the_apps_embeddings_of_the_saved_image_net(tmp_path: Path) -> None:
    from posebrowser.core.embedder import Embedder
    from posebrowser.training.command import _load_image_net, _train_embeddings, load_train_split

    out, _, image = _train_compact_image_net(tmp_path, max_images=20)
    data = load_train_split(str(tmp_path / "gallery"), tiny=False, show_bar=False, max_images=20)
    net, preprocessing = _load_image_net(image)
    targets = _train_embeddings(image, data, net, preprocessing)
    app = Embedder.from_checkpoint(out / "image_net", "cpu", precision="fp32")
    expected = app.embed_arrays(preprocessing.prepare_batch(list(data.images)))
    assert targets.shape == (20, 128) and targets.dtype == np.float32
    np.testing.assert_allclose(targets, expected, atol=1e-5)
    assert _train_embeddings(image, data, net, preprocessing) is targets  # computed once per split


def test_init_from_starts_from_the_saved_net_and_keeps_its_architecture(tmp_path: Path) -> None:
    import torch

    from posebrowser.nets.checkpoint import load_model

    out, base, _ = _train_compact_image_net(tmp_path, max_images=16)
    source, source_card = load_model(out / "image_net", expect_kind="image")
    tuned = tmp_path / "tuned"
    init = ["--init-from", str(out / "image_net"), "--net", "compact_resnet", "--epochs", "1"]
    frozen = _parse(["train", "image", "--out", str(tuned), *base, *init, "--lr", "0"])
    assert frozen.func(frozen) == 0
    net, card = load_model(tuned / "image_net", expect_kind="image")
    assert card.config == source_card.config and card.preprocessing == source_card.preprocessing
    assert f"init_from={source_card.sha256[:16]}" in card.notes and "imagenet_init" not in card.notes
    # with a learning rate of 0 every weight is the saved net's (batch-norm statistics may move)
    for (name, value), (_, start) in zip(net.named_parameters(), source.named_parameters(), strict=True):
        assert torch.equal(value, start), name
    moved = _parse(["train", "image", "--out", str(tmp_path / "moved"), *base, *init, "--lr", "1e-2"])
    assert moved.func(moved) == 0
    changed, _ = load_model(tmp_path / "moved" / "image_net", expect_kind="image")
    assert any(
        not torch.equal(a, b) for a, b in zip(changed.parameters(), source.parameters(), strict=True)
    )


@pytest.mark.parametrize("contradiction", [["--net", "efficientnet_lite0"], ["--input-size", "64"]])
def test_init_from_refuses_a_contradicting_architecture_before_any_work(
    contradiction: list[str], tmp_path: Path
) -> None:
    out, base, _ = _train_compact_image_net(tmp_path, max_images=16)
    argv = ["train", "image", "--out", str(tmp_path / "tuned"), *base, "--init-from", str(out / "image_net")]
    if contradiction[0] != "--net":
        argv += ["--net", "compact_resnet"]
    args = _parse([*argv, *contradiction])
    assert args.func(args) == 1
    assert not (tmp_path / "tuned" / "image_net.safetensors").exists()


def test_finetune_gallery_keeps_the_base_net_and_fine_tunes_it_on_the_other_gallery(tmp_path: Path) -> None:
    from posebrowser.data.loading import open_gallery
    from posebrowser.nets.checkpoint import load_model

    write_gallery(tmp_path / "gallery", seed=0)
    write_gallery(tmp_path / "other", seed=1)
    out = tmp_path / "m"
    argv = ["train", "image", "--gallery", str(tmp_path / "gallery"), "--out", str(out), "--device", "cpu"]
    argv += ["--quiet", "--net", "compact_resnet", "--max-train-images", "16", "--epochs", "1"]
    argv += ["--finetune-gallery", str(tmp_path / "other"), "--finetune-epochs", "1", "--resume"]
    args = _parse(argv)
    assert args.func(args) == 0
    _, base = load_model(out / "training" / "base" / "image_net", expect_kind="image")
    _, tuned = load_model(out / "image_net", expect_kind="image")
    assert base.training_data_hash == open_gallery(str(tmp_path / "gallery")).content_hash
    assert tuned.training_data_hash == open_gallery(str(tmp_path / "other")).content_hash
    assert f"init_from={base.sha256[:16]}:{base.training_data_hash}" in tuned.notes
    assert tuned.sha256 != base.sha256 and tuned.config == base.config
    # both stages resume from their own states: a second run trains nothing and writes the same nets
    again = _parse(argv)
    assert again.func(again) == 0
    assert load_model(out / "image_net", expect_kind="image")[1].sha256 == tuned.sha256
    assert load_model(out / "training" / "base" / "image_net")[1].sha256 == base.sha256


def test_the_fine_tune_validates_on_the_first_nets_validation_gallery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --val-gallery the fine-tune's validation loss comes from --gallery's val split, here the
    built-in gallery (--gallery left out), not from the fine-tune gallery's."""
    from posebrowser.data.loading import builtin_gallery_path
    from posebrowser.training import command

    seen: list[str | None] = []
    real = command.load_validation

    def recording(args: argparse.Namespace, data: command.TrainData) -> object:
        seen.append(args.val_gallery)
        return real(args, data)

    monkeypatch.setattr(command, "load_validation", recording)
    write_gallery(tmp_path / "other", seed=1)
    argv = ["train", "image", "--tiny", "--net", "compact_resnet", "--out", str(tmp_path / "m"), "--quiet"]
    args = _parse([*argv, "--device", "cpu", "--finetune-gallery", str(tmp_path / "other")])
    assert args.func(args) == 0
    assert seen == [None, str(builtin_gallery_path())]


def test_mirror_view_step_fits_the_map_on_train_images_and_refits_from_the_plain_net(tmp_path: Path) -> None:
    from posebrowser.core.embedder import Embedder
    from posebrowser.nets.checkpoint import load_model
    from posebrowser.nets.mirror_view import MirrorViewNet, fit_rotation

    out, base, _ = _train_compact_image_net(tmp_path, max_images=40)
    plain_net, plain_card = load_model(out / "image_net", expect_kind="image")
    step = _parse(["train", "mirror-view", "--out", str(out), *base])
    assert step.func(step) == 0
    wrapped, card = load_model(out / "image_net", expect_kind="image")
    assert isinstance(wrapped, MirrorViewNet) and card.config == {**plain_card.config, "mirror_view": True}
    assert card.metrics["mirror_view"]["fit_images"] == 40 and card.preprocessing == plain_card.preprocessing
    for (name, value), (_, before) in zip(
        wrapped.net.state_dict().items(), plain_net.state_dict().items(), strict=True
    ):
        assert torch.equal(value, before), name  # the plain net is untouched
    # oracle: the map is the Procrustes fit of the 40 train images' two views
    from posebrowser.training.command import load_train_split

    images = list(load_train_split(str(tmp_path / "gallery"), False, False, 40).images)
    preprocessing = Embedder.from_checkpoint(out / "image_net").preprocessing
    plain_embedder = Embedder(plain_net, preprocessing, "cpu", "fp32")
    plain = plain_embedder.embed_images(images)
    mirrored = plain_embedder.embed_images(images, mirror=True)
    expected = fit_rotation(plain, mirrored)
    # the projection on the rows' span is what the fit determines (40 rows < 128 dimensions)
    np.testing.assert_allclose(mirrored @ wrapped.rotation.numpy().T, mirrored @ expected.T, atol=1e-4)
    app = Embedder.from_checkpoint(out / "image_net", "cpu", precision="fp32").embed_images(images[:6])
    mean = plain[:6] + mirrored[:6] @ expected.T
    np.testing.assert_allclose(app, mean / np.linalg.norm(mean, axis=1, keepdims=True), atol=1e-4)
    # run again: refitted from the plain net, not a view of a view
    assert step.func(step) == 0
    again, _ = load_model(out / "image_net", expect_kind="image")
    assert isinstance(again, MirrorViewNet) and not isinstance(again.net, MirrorViewNet)
    np.testing.assert_allclose(again.rotation.numpy(), wrapped.rotation.numpy(), atol=1e-5)


def test_fine_tuning_a_mirror_view_net_trains_its_plain_net(tmp_path: Path) -> None:
    from posebrowser.nets.checkpoint import load_model
    from posebrowser.nets.mirror_view import MirrorViewNet

    out, base, _ = _train_compact_image_net(tmp_path, max_images=16)
    step = _parse(["train", "mirror-view", "--out", str(out), *base])
    assert step.func(step) == 0
    init = ["--init-from", str(out / "image_net"), "--net", "compact_resnet", "--epochs", "1"]
    tuned = _parse(["train", "image", "--out", str(tmp_path / "tuned"), *base, *init])
    assert tuned.func(tuned) == 0
    net, card = load_model(tmp_path / "tuned" / "image_net", expect_kind="image")
    assert not isinstance(net, MirrorViewNet) and "mirror_view" not in card.config


@pytest.mark.parametrize("bad", ["-0.1", "1.5", "nan", "grey"])
def test_a_grey_share_outside_0_to_1_is_refused_before_any_work(bad: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _parse(["train", "all", "--out", str(tmp_path / "m"), "--grey-share", bad])
    assert not (tmp_path / "m").exists()
    assert _parse(["train", "image"]).grey_share == 0.0  # the default: no grey images


def test_an_image_run_resumes_only_with_its_grey_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, base, _ = _train_compact_image_net(tmp_path / "plain", 24)
    again = ["train", "image", "--out", str(out), *base, "--net", "compact_resnet", "--epochs", "2"]
    grey = _parse([*again, "--grey-share", "0.5", "--resume"])
    assert grey.func(grey) == 1
    assert "different settings (grey_share)" in capsys.readouterr().err
    state = torch.load(out / "training" / "image_train_state.pt", weights_only=True)
    assert state["config"]["grey_share"] == 0.0  # the state is kept as it was
    del state["config"]["grey_share"]  # a state saved before the option existed still resumes
    torch.save(state, out / "training" / "image_train_state.pt")
    plain = _parse([*again, "--resume"])
    assert plain.func(plain) == 0


def test_the_landmark_head_option_reaches_the_card_and_a_net_without_the_lite_trunk_is_refused(
    tmp_path: Path,
) -> None:
    gallery = tmp_path / "gallery"
    write_gallery(gallery)
    base = ["train", "image", "--gallery", str(gallery), "--device", "cpu", "--quiet"]
    base += ["--max-train-images", "24", "--epochs", "1", "--batch-size", "8", "--input-size", "48"]
    base += ["--aux-landmarks", "1.5"]
    refused = _parse([*base, "--out", str(tmp_path / "compact"), "--net", "compact_resnet"])
    assert refused.func(refused) == 1 and not (tmp_path / "compact").exists()
    args = _parse([*base, "--out", str(tmp_path / "m"), "--no-pretrained"])
    assert args.func(args) == 0
    assert "aux_landmarks=1.5" in json.loads((tmp_path / "m" / "image_net.json").read_text())["notes"]
