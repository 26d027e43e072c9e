from __future__ import annotations

from pathlib import Path

from posebrowser.settings import Settings, load_settings, save_settings


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    original = Settings(device="cpu", results_k=20, partial_method="mask", last_gallery="/x")
    save_settings(original, path)
    assert load_settings(path) == original


def test_garbage_file_gives_defaults(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json")
    assert load_settings(path) == Settings()
    path.write_text('{"version": 1, "device": "tpu", "results_k": "many"}')
    loaded = load_settings(path)
    assert loaded.device == "auto" and loaded.results_k == 50
