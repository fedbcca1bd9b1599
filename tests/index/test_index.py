"""Index contract: exact answers known by hand; approximate ones measured against exact."""

import numpy as np
import pytest

from movierec.errors import ConfigError
from movierec.index import ExactIndex, FaissIndex, load_index, make_index

VECTORS = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7], [-1.0, 0.0]], dtype=np.float32)
IDS = np.array([10, 20, 30, 40])


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_known_answer_and_exclusion(kind):
    index = make_index(kind, **({"nlist": 1} if kind == "ivf" else {})).build(VECTORS, IDS)
    ids, scores = index.search(np.array([[1.0, 0.2]]), 2)
    assert ids.tolist() == [[10, 30]]
    np.testing.assert_allclose(scores, [[1.0, 0.84]], rtol=1e-5)
    ids, _ = index.search(np.array([[1.0, 0.2]]), 2, exclude=[np.array([0])])
    assert ids.tolist() == [[30, 20]]
    assert index.is_exact == (kind == "exact")


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_k_beyond_catalogue_is_padded(kind):
    ids, scores = make_index(kind).build(VECTORS, IDS).search(
        np.array([[0.0, 1.0]]), 6, exclude=[np.array([1])])
    assert sorted(ids[0, :3].tolist()) == [10, 30, 40] and ids[0, 3:].tolist() == [-1, -1, -1]
    assert np.isneginf(scores[0, 3:]).all()


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_save_load_round_trip(kind, tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    index = make_index(kind).build(vectors, np.arange(300) * 3)
    queries = rng.normal(size=(5, 8)).astype(np.float32)
    index.save(tmp_path / "idx")
    again = load_index(tmp_path / "idx")
    for a, b in zip(index.search(queries, 7), again.search(queries, 7), strict=True):
        np.testing.assert_array_equal(a, b)


def test_hnsw_recall_against_exact():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(5000, 16)).astype(np.float32)
    queries = rng.normal(size=(50, 16)).astype(np.float32)
    exact, _ = ExactIndex().build(vectors).search(queries, 10)
    approx, _ = FaissIndex("hnsw", ef_search=128).build(vectors).search(queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall >= 0.9


def test_bad_input_is_clear():
    with pytest.raises(ConfigError, match="kind"):
        make_index("annoy")
    with pytest.raises(ConfigError, match="before build"):
        ExactIndex().search(np.zeros((1, 2)), 1)
    index = ExactIndex().build(VECTORS)
    with pytest.raises(ConfigError, match="dimension 3"):
        index.search(np.zeros((1, 3)), 1)
    with pytest.raises(ConfigError, match="k must"):
        index.search(np.zeros((1, 2)), 0)


def test_wider_search_raises_hnsw_recall_without_rebuild():
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(4000, 32)).astype(np.float32)
    queries = rng.normal(size=(40, 32)).astype(np.float32)
    exact, _ = ExactIndex().build(vectors).search(queries, 10)
    index = FaissIndex("hnsw", m=4, ef_construction=16, ef_search=10).build(vectors)

    def recall() -> float:
        found, _ = index.search(queries, 10)
        return float(np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact,
                                                                         strict=True)]))

    narrow = recall()
    index.set_search_params(ef_search=400)
    assert index.params["ef_search"] == 400 and index.index.hnsw.efSearch == 400
    assert recall() > narrow + 0.05


def test_implicit_factor_rankers_serve_from_an_index(ratings_factory) -> None:
    """iALS scores by a dot product: the exact index lists what recommend() lists."""
    from movierec import Recommender

    rec = Recommender("ials", progress=False, factors=8, iterations=3)
    rec.fit(ratings_factory(n_users=40, n_movies=30, density=0.4, seed=2))
    user = int(rec.user_ids.ids[0])
    direct = rec.recommend(user, k=5)
    rec.build_index("exact")
    assert list(rec.recommend(user, k=5)["movie_id"]) == list(direct["movie_id"])
