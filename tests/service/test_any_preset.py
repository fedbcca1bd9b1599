"""Any preset is served: rankers' lists (from start-up top-N lists), a rater's stars beside
them, profiles folded into rankers, and clean refusals for what a model cannot do."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from movierec import Recommender
from movierec.coldstart import Preferences, blend, preference_scores, standardize
from movierec.service.app import create_app
from movierec.service.settings import ServiceSettings
from movierec.service.store import ProfileStore
from movierec.service.top_lists import KnownUserLists


@pytest.fixture(scope="module")
def ease(fit_tiny) -> Recommender:
    return fit_tiny("ease")


@pytest.fixture(scope="module")
def ease_with_stars(fit_tiny) -> Recommender:
    return fit_tiny("ease", rater="biased-mf")


def serve(rec: Recommender, tmp_path) -> TestClient:
    settings = ServiceSettings(tmp_path / "model", database_url=f"sqlite:///{tmp_path}/p.db")
    return TestClient(create_app(settings, rec))


def ids(movies: list[dict]) -> list[int]:
    return [m["movie_id"] for m in movies]


def history_body(rec: Recommender, user_id: int, **extra: object) -> dict:
    """A profile body holding exactly the ratings a training user gave."""
    ratings = rec.movie_ids.ids[rec.seen.movies_of(int(rec.user_ids.to_index([user_id])[0]))]
    return {"ratings": [{"movie_id": int(m), "rating": 4.0} for m in ratings], **extra}


def test_ease_known_user_lists_equal_the_facade_with_and_without_genre(ease, tmp_path):
    horror = ease.movies.loc[[("Horror" in g) for g in ease.movies["genres"]], "movie_id"]
    with serve(ease, tmp_path) as client:
        info = client.get("/api/model").json()
        for user in (1, 17, 60):
            for k in (1, 10, 40):
                got = client.get(f"/api/users/{user}/recommendations", params={"k": k}).json()
                want = ease.recommend(user, k)
                assert ids(got) == want["movie_id"].tolist()
                np.testing.assert_allclose([m["score"] for m in got], want["score"], rtol=1e-5)
                assert all(m["predicted_rating"] is None for m in got)
            got = client.get(f"/api/users/{user}/recommendations",
                             params={"k": 5, "genre": "Horror"}).json()
            assert ids(got) == ease.recommend(user, 5, candidates=horror)["movie_id"].tolist()
    assert (info["preset"], info["ranker"], info["rater"], info["accepts_profiles"]) == (
        "ease", "ease", None, True)


def test_a_list_too_short_for_the_request_falls_back_to_the_model(ease, tmp_path):
    row = int(ease.user_ids.to_index([5])[0])
    horror_rows = np.array(["Horror" in g for g in ease.movies.loc[ease.movie_ids.ids, "genres"]])
    horror = ease.movie_ids.ids[horror_rows]
    short = KnownUserLists(ease, len(ease.user_ids), {"Horror": horror_rows}, top_n=4,
                           top_per_genre=2)
    rows, scores, stars = short.recommend(row, 3)
    assert ease.movie_ids.ids[rows].tolist() == ease.recommend(5, 3)["movie_id"].tolist()
    assert stars is None and list(scores) == sorted(scores, reverse=True)
    rows, _, _ = short.recommend(row, 2, "Horror")
    assert ease.movie_ids.ids[rows].tolist() == ease.recommend(5, 2, candidates=horror)[
        "movie_id"].tolist()
    assert short.recommend(row, 5) is None  # more wanted than it holds, and more exist
    assert short.recommend(row, 3, "Horror") is None
    with serve(ease, tmp_path) as client:
        client.app.state.model.lists = short
        got = client.get("/api/users/5/recommendations", params={"k": 12}).json()
        scary = client.get("/api/users/5/recommendations",
                           params={"k": 4, "genre": "Horror"}).json()
    assert ids(got) == ease.recommend(5, 12)["movie_id"].tolist()
    assert ids(scary) == ease.recommend(5, 4, candidates=horror)["movie_id"].tolist()


def test_predicted_rating_without_a_rater_is_a_clear_409(ease, tmp_path):
    with serve(ease, tmp_path) as client:
        response = client.get("/api/users/3/predictions/17")
    assert response.status_code == 409
    assert "'ease'" in response.json()["detail"] and "predicts no ratings" in (
        response.json()["detail"])


def test_similar_movies_and_reasons_come_from_the_ranker(ease, tmp_path):
    with serve(ease, tmp_path) as client:
        similar = client.get("/api/movies/7/similar", params={"k": 4}).json()
        liked = client.post("/api/profiles", json={"ratings": [{"movie_id": 7, "rating": 5}]})
    assert ids(similar) == ease.similar_movies(7, 4)["movie_id"].tolist()
    recs = liked.json()["recommendations"]
    assert ids(recs)[:4] == ids(similar)  # one rating: the ranker's list is its neighbours
    assert all(r["because_you_rated"]["movie_id"] == 7 for r in recs)


def test_profile_on_ease_gets_the_list_of_a_known_user_with_the_same_history(ease, tmp_path):
    with serve(ease, tmp_path) as client:
        created = client.post("/api/profiles", json=history_body(ease, 23))
        pid = created.json()["profile"]["profile_id"]
        again = client.get(f"/api/profiles/{pid}/recommendations", params={"k": 10}).json()
    assert created.status_code == 201
    want = ease.recommend(23, 10)["movie_id"].tolist()
    assert ids(created.json()["recommendations"]) == want and ids(again) == want


def test_stated_genres_blend_with_the_rankers_standardised_scores(ease, tmp_path):
    body = history_body(ease, 31, preferences={"liked_genres": ["Horror"]})
    rated = [r["movie_id"] for r in body["ratings"]]
    with serve(ease, tmp_path) as client:
        got = client.post("/api/profiles", json=body).json()["recommendations"]
        catalog = client.app.state.model.catalog
    ranker = ease.movie_scores(31).drop(index=rated).astype(np.float64)
    preference = preference_scores(catalog.frame, catalog.popularity, Preferences(("Horror",)))
    want = blend(preference, standardize(ranker), len(rated)).drop(index=rated).nlargest(10)
    assert ids(got) == want.index.tolist()
    np.testing.assert_allclose([r["score"] for r in got], want.to_numpy(), rtol=1e-5)


def test_a_ranker_with_a_rater_shows_the_raters_stars(ease_with_stars, tmp_path):
    rec = ease_with_stars
    with serve(rec, tmp_path) as client:
        info = client.get("/api/model").json()
        listed = client.get("/api/users/9/recommendations", params={"k": 5}).json()
        predicted = client.get("/api/users/9/predictions/17").json()["rating"]
        profile = client.post("/api/profiles", json=history_body(rec, 9)).json()
    assert (info["ranker"], info["rater"]) == ("ease", "biased-mf")
    assert ids(listed) == rec.recommend(9, 5)["movie_id"].tolist()
    pairs = pd.DataFrame({"user_id": 9, "movie_id": ids(listed)})
    np.testing.assert_allclose([m["predicted_rating"] for m in listed], rec.predict(pairs),
                               atol=1e-5)
    pair = pd.DataFrame({"user_id": [9], "movie_id": [17]})
    assert predicted == pytest.approx(float(rec.predict(pair)[0]), abs=1e-5)
    stars = [r["predicted_rating"] for r in profile["recommendations"]]
    assert len(stars) == 10 and all(1.0 <= s <= 5.0 for s in stars)


@pytest.fixture(scope="module")
def item_knn_dir(fit_tiny, tmp_path_factory):
    """A preset that trains as a whole: it cannot fold in new users."""
    return fit_tiny("item-knn").save(tmp_path_factory.mktemp("knn") / "model")


def test_a_preset_that_cannot_fold_in_stores_no_profile_and_restarts(item_knn_dir, tmp_path,
                                                                     caplog):
    settings = ServiceSettings(item_knn_dir, database_url=f"sqlite:///{tmp_path}/p.db")
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/model").json()["accepts_profiles"] is False
        refused = client.post("/api/profiles", json={"ratings": [{"movie_id": 7, "rating": 5}]})
        tastes = client.post("/api/profiles", json={"preferences": {"liked_genres": ["Drama"]}})
        assert client.get("/api/users/2/recommendations").status_code == 200
    assert refused.status_code == tastes.status_code == 409
    assert "'item-knn'" in refused.json()["detail"] and "fold in" in refused.json()["detail"]
    store = ProfileStore(settings.resolved_database_url())
    assert store.count() == 0
    stale = store.create("from an older model", Preferences(), {7: 5.0})  # e.g. before a retrain
    store.close()
    with caplog.at_level(logging.WARNING), TestClient(create_app(settings)) as client:
        assert client.get("/api/health").status_code == 200
        recs = client.get(f"/api/profiles/{stale.profile_id}/recommendations").json()
        ignored = client.get("/api/model").json()["ignored_profile_ratings"]
    assert len(recs) == 10 and "cannot fold in" in caplog.text and ignored == 1


def test_stored_ratings_of_movies_the_model_lost_are_kept_but_ignored(ease, tmp_path, caplog):
    settings = ServiceSettings(tmp_path / "model", database_url=f"sqlite:///{tmp_path}/p.db")
    store = ProfileStore(settings.resolved_database_url())
    lost = store.create("", Preferences(), {7: 5.0, 999_998: 2.0, 999_999: 4.0})
    gone = store.create("", Preferences(), {999_997: 3.0})
    kept = store.create("", Preferences(), dict.fromkeys([7, 17, 27], 5.0))
    store.close()
    with caplog.at_level(logging.WARNING), TestClient(create_app(settings, ease)) as client:
        assert client.get("/api/model").json()["ignored_profile_ratings"] == 3
        lost_recs = client.get(f"/api/profiles/{lost.profile_id}/recommendations").json()
        gone_recs = client.get(f"/api/profiles/{gone.profile_id}/recommendations")
        kept_recs = client.get(f"/api/profiles/{kept.profile_id}/recommendations").json()
        stored = client.get(f"/api/profiles/{lost.profile_id}").json()["ratings"]
        # the known rating alone decides the list: the same as a profile with only it
        same = client.post("/api/profiles", json={"ratings": [{"movie_id": 7, "rating": 5}]})
        unrated = client.delete(f"/api/profiles/{lost.profile_id}/ratings/999999")
        after = client.get("/api/model").json()["ignored_profile_ratings"]
    assert (f"profile {lost.profile_id}: 2 stored rating(s) of movie(s) 999998, 999999"
            in caplog.text and "kept but ignored" in caplog.text)
    assert [(r["movie_id"], r["ignored"]) for r in stored] == [
        (7, False), (999_998, True), (999_999, True)]
    assert ids(lost_recs) == ids(same.json()["recommendations"])
    assert lost_recs[0]["because_you_rated"]["movie_id"] == 7
    assert gone_recs.status_code == 200 and len(gone_recs.json()) == 10  # stated tastes only
    assert kept_recs[0]["because_you_rated"] is not None  # folded in: the ranker's list
    assert unrated.status_code == 200 and after == 2  # 999998 and 999997 are left


@pytest.mark.realdata
def test_ml100k_ease_is_served_like_the_facade(ml100k_dir, tmp_path):
    from movierec.data import load_movielens

    data = load_movielens("ml-100k", ml100k_dir)
    rec = Recommender("ease", progress=False).fit(data.ratings, movies=data.movies)
    with serve(rec, tmp_path) as client:
        for user in (1, 450, 943):
            got = client.get(f"/api/users/{user}/recommendations", params={"k": 20}).json()
            assert ids(got) == rec.recommend(user, 20)["movie_id"].tolist()
        star_wars = [50, 181, 172, 271, 1, 82, 89, 96, 195, 228]
        body = {"ratings": [{"movie_id": m, "rating": 5} for m in star_wars]}
        recs = client.post("/api/profiles", json=body).json()["recommendations"]
    assert len(recs) == 10 and not set(ids(recs)) & set(star_wars)
