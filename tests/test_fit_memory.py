"""Fits whose dense movies x movies matrices would not fit in memory are refused before they
start, with the sizes and what to do instead; the others are not affected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec import Recommender
from movierec.errors import ConfigError
from movierec.models import fit_memory
from movierec.models.ease import EASE
from movierec.models.presets import get_preset


def _ratings(n_movies: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"user_id": rng.integers(0, 40, 800),
                         "movie_id": rng.integers(0, n_movies, 800),
                         "rating": rng.integers(1, 6, 800).astype(float),
                         "timestamp": np.arange(800)}
                        ).drop_duplicates(["user_id", "movie_id"])


def test_available_memory_is_read_on_linux() -> None:
    if not fit_memory.MEMINFO.exists():
        pytest.skip("no /proc/meminfo here")
    assert fit_memory.available_memory() > 2**20


def test_a_container_limit_below_the_machine_is_what_counts(tmp_path, monkeypatch) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  33554432 kB\nMemAvailable:  16777216 kB\n")
    monkeypatch.setattr(fit_memory, "MEMINFO", meminfo)
    monkeypatch.setattr(fit_memory, "CGROUP", tmp_path)
    assert fit_memory.available_memory() == 16 * 2**30  # no cgroup files: the machine's
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text(str(2**30))
    assert fit_memory.available_memory() == 16 * 2**30  # no limit set
    (tmp_path / "memory.max").write_text(str(4 * 2**30))
    assert fit_memory.available_memory() == 3 * 2**30  # the container's 4 GiB, 1 used
    meminfo.unlink()
    assert fit_memory.available_memory() == 3 * 2**30
    (tmp_path / "memory.max").unlink()
    assert fit_memory.available_memory() is None


@pytest.mark.parametrize("preset", ["ease", "dae", "top-k", "item-ridge", "item2vec"])
def test_dense_fit_beyond_available_memory_is_refused(preset: str, monkeypatch) -> None:
    monkeypatch.setattr(fit_memory, "available_memory", lambda: 10_000)
    rec = Recommender(preset, progress=False, rater=None)
    with pytest.raises(ConfigError, match=rf"preset '{preset}' .* movies need about .* "
                                          r"'ials'"):
        rec.fit(_ratings())
    assert rec.model is None  # nothing was built


def test_blend_needs_the_sum_of_its_members() -> None:
    spec = get_preset("top-k")
    members = [get_preset(m).model_class.fit_memory(1000, {})
               for m in spec.model_defaults["members"]]
    need = spec.model_class.fit_memory(1000, dict(spec.model_defaults))
    assert need == sum(members) and min(members) > 0
    assert EASE.fit_memory(1000, {}) == EASE.fit_bytes_per_movie_pair * 1000**2


def test_a_blend_s_bad_member_options_still_get_the_blend_s_own_error() -> None:
    # the estimate runs first; it must not turn the constructor's message into a traceback
    with pytest.raises(ConfigError, match="member_options needs one dict per member"):
        Recommender("ranking-blend", progress=False, members=("ease", "popularity"),
                    member_options=({},)).fit(_ratings())


def test_item2vec_counts_its_dense_scores_only_where_it_keeps_them() -> None:
    from movierec.models import item2vec

    cls = get_preset("item2vec").model_class
    assert cls.fit_memory(item2vec.DENSE_SCORES_UP_TO, {}) > 0
    assert cls.fit_memory(item2vec.DENSE_SCORES_UP_TO + 1, {}) == 0


def test_models_that_grow_with_the_movies_are_never_refused(monkeypatch) -> None:
    monkeypatch.setattr(fit_memory, "available_memory", lambda: 10_000)
    rec = Recommender("popularity", progress=False, rater=None).fit(_ratings())
    assert len(rec.recommend(0, k=5)) == 5


def test_unknown_available_memory_skips_the_check(monkeypatch) -> None:
    monkeypatch.setattr(fit_memory, "available_memory", lambda: None)
    rec = Recommender("ease", progress=False, rater=None).fit(_ratings())
    assert len(rec.recommend(0, k=5)) == 5
