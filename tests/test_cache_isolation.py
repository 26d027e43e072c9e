"""The test run never writes the user's caches (a GUI soak once filled ~/.cache with photo estimates)."""

from __future__ import annotations

from pathlib import Path

from posebrowser.core.engine import default_cache_dir
from posebrowser.estimate.cache import default_estimate_cache_dir


def test_default_caches_lie_outside_the_home_cache_during_tests() -> None:
    home_cache = Path.home() / ".cache"
    for folder in (default_cache_dir(), default_estimate_cache_dir()):
        assert not folder.is_relative_to(home_cache), folder
