"""REST API on a tiny model: each ability, restart recovery, and 4xx (never 5xx) on bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from movierec import Recommender
from movierec.service.app import create_app
from movierec.service.settings import ServiceSettings


def first_movies(client: TestClient, n: int) -> list[int]:
    return [m["movie_id"] for m in client.get("/api/movies/search", params={"q": "movie",
                                                                             "limit": n}).json()]


def test_health_model_info_and_openapi(client):
    assert client.get("/api/health").json() == {"status": "ok"}
    info = client.get("/api/model").json()
    assert (info["n_users"], info["n_movies"], info["rating_min"], info["rating_max"]) == (
        60, 40, 1.0, 5.0)
    assert info["genres"] == ["Comedy", "Drama", "Horror", "Sci-Fi"]
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/profiles/{profile_id}/ratings/{movie_id}" in paths


def test_search_ignores_case_accents_and_accepts_partial_words(client):
    def titles(q: str) -> list[str]:
        return [m["title"] for m in client.get("/api/movies/search", params={"q": q}).json()]

    assert titles("MISERABLES") == ["Misérables, Les"]
    assert titles("cafe lait") == ["Café au Lait"]
    assert sorted(titles("sta")) == ["Star Trek", "Star Wars"]
    assert titles("star wa") == ["Star Wars"]
    assert titles("nothing like this") == []


def test_movie_details_similar_and_users(client, tiny_model_dir):
    rec = Recommender.load(tiny_model_dir)
    details = client.get("/api/movies/7", params={"k": 3}).json()
    assert details["title"] == "Misérables, Les" and details["year"] == 1950
    assert [m["movie_id"] for m in details["similar"]] == rec.similar_movies(7, 3)[
        "movie_id"].tolist()
    users = client.get("/api/movies/7/users", params={"k": 4}).json()
    assert [u["user_id"] for u in users] == rec.users_for_movie(7, 4)["user_id"].tolist()


def test_user_recommendations_exclude_seen_and_filter_by_genre(client, tiny_model_dir):
    rec = Recommender.load(tiny_model_dir)
    top = client.get("/api/users/1/recommendations", params={"k": 5}).json()
    assert [m["movie_id"] for m in top] == rec.recommend(1, 5)["movie_id"].tolist()
    horror = client.get("/api/users/1/recommendations", params={"k": 40, "genre": "Horror"}).json()
    detail = {m["movie_id"]: client.get(f"/api/movies/{m['movie_id']}").json() for m in horror}
    assert horror and all("Horror" in d["genres"] for d in detail.values())
    seen = set(rec.seen.movies_of(0).tolist())
    assert not seen & set(rec.movie_ids.to_index([m["movie_id"] for m in horror]).tolist())


def test_predicted_rating_matches_the_facade(client, tiny_model_dir):
    rec = Recommender.load(tiny_model_dir)
    import pandas as pd

    expected = rec.predict(pd.DataFrame({"user_id": [3], "movie_id": [17]}))[0]
    got = client.get("/api/users/3/predictions/17").json()
    assert got["rating"] == pytest.approx(float(expected), abs=1e-6)


def test_new_profile_from_ratings_gets_unrated_recommendations_with_reasons(client):
    movies = first_movies(client, 5)
    body = {"name": "ann", "ratings": [{"movie_id": m, "rating": 5.0} for m in movies]}
    response = client.post("/api/profiles", json=body)
    assert response.status_code == 201
    result = response.json()
    assert {r["movie_id"] for r in result["profile"]["ratings"]} == set(movies)
    recs = result["recommendations"]
    assert len(recs) == 10 and not {r["movie_id"] for r in recs} & set(movies)
    assert all(r["because_you_rated"]["movie_id"] in movies for r in recs)


def test_rating_changes_update_and_delete(client):
    pid = client.post("/api/profiles", json={}).json()["profile"]["profile_id"]
    movie = first_movies(client, 1)[0]
    changed = client.put(f"/api/profiles/{pid}/ratings/{movie}", json={"rating": 4}).json()
    assert changed["profile"]["ratings"] == [{"movie_id": movie, "title": f"Movie {movie}",
                                              "rating": 4.0, "ignored": False}]
    assert movie not in [r["movie_id"] for r in changed["recommendations"]]
    client.put(f"/api/profiles/{pid}/ratings/{movie}", json={"rating": 2})
    assert client.get(f"/api/profiles/{pid}").json()["ratings"][0]["rating"] == 2.0
    emptied = client.delete(f"/api/profiles/{pid}/ratings/{movie}").json()
    assert emptied["profile"]["ratings"] == []
    assert client.delete(f"/api/profiles/{pid}/ratings/{movie}").status_code == 404


def test_cold_start_profile_follows_stated_genres_then_ratings(client):
    body = {"preferences": {"liked_genres": ["Horror"], "disliked_genres": ["Comedy"]}}
    result = client.post("/api/profiles", json=body).json()
    recs = result["recommendations"]
    assert all("Horror" in r["genres"] and "Comedy" not in r["genres"] for r in recs[:5])
    assert all(r["matching_genres"] == ["Horror"] for r in recs[:5])
    pid = result["profile"]["profile_id"]
    for movie in first_movies(client, 8):
        after = client.put(f"/api/profiles/{pid}/ratings/{movie}", json={"rating": 5}).json()
    assert after["recommendations"][0]["because_you_rated"] is not None
    prefs = {"liked_genres": ["Drama"], "year_min": 1980, "year_max": 1989}
    updated = client.put(f"/api/profiles/{pid}/preferences", json=prefs).json()
    assert updated["profile"]["preferences"]["liked_genres"] == ["Drama"]


def test_profiles_come_back_after_restart(settings):
    with TestClient(create_app(settings)) as first:
        movies = first_movies(first, 6)
        body = {"ratings": [{"movie_id": m, "rating": 5.0 if i < 3 else 1.0}
                            for i, m in enumerate(movies)]}
        created = first.post("/api/profiles", json=body).json()
        pid = created["profile"]["profile_id"]
        before = first.get(f"/api/profiles/{pid}/recommendations", params={"k": 10}).json()
    with TestClient(create_app(settings)) as second:
        assert second.get("/api/model").json()["profiles"] == 1
        assert second.get(f"/api/profiles/{pid}").json()["ratings"] == created["profile"][
            "ratings"]
        after = second.get(f"/api/profiles/{pid}/recommendations", params={"k": 10}).json()
    overlap = {r["movie_id"] for r in before} & {r["movie_id"] for r in after}
    assert len(overlap) >= 8


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("get", "/api/users/999/recommendations", None, 404),
    ("get", "/api/users/1/recommendations?k=0", None, 422),
    ("get", "/api/users/1/recommendations?k=100000000", None, 422),
    ("get", "/api/users/1/recommendations?genre=Western", None, 404),
    ("get", "/api/movies/8", None, 404),
    ("get", "/api/movies/99999999999999999999999", None, 422),
    ("get", "/api/profiles/12345", None, 404),
    ("get", "/api/movies/search?q=", None, 422),
    ("post", "/api/profiles", {"ratings": [{"movie_id": 7, "rating": 6}]}, 422),
    ("post", "/api/profiles", {"ratings": [{"movie_id": 8, "rating": 3}]}, 422),
    ("post", "/api/profiles", {"ratings": [{"movie_id": 7, "rating": 3}] * 2}, 422),
    ("post", "/api/profiles", {"preferences": {"liked_genres": ["Jazz"]}}, 422),
    ("post", "/api/profiles", {"preferences": {"liked_genres": ["Drama"],
                                               "disliked_genres": ["Drama"]}}, 422),
    ("post", "/api/profiles", {"preferences": {"year_min": 2000, "year_max": 1990}}, 422),
    ("post", "/api/profiles", {"unexpected": 1}, 422),
    ("post", "/api/profiles", "{not json", 422),
    ("post", "/api/profiles", "x" * 70_000, 413),
    ("put", "/api/profiles/1/ratings/7", {"rating": "NaN"}, 422),
])
def test_bad_input_is_a_clear_4xx_json_error(client, method, path, body, status):
    kwargs = {}
    if isinstance(body, str):
        kwargs = {"content": body, "headers": {"content-type": "application/json"}}
    elif body is not None:
        kwargs = {"json": body}
    response = client.request(method.upper(), path, **kwargs)
    assert response.status_code == status
    assert response.json()["detail"]


def test_write_endpoints_need_the_api_key_when_configured(tiny_model_dir, tmp_path):
    settings = ServiceSettings(tiny_model_dir, database_url=f"sqlite:///{tmp_path / 'p.db'}",
                               api_key="s3cret")
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/profiles", json={}).status_code == 401
        wrong = client.post("/api/profiles", json={}, headers={"X-API-Key": "nope"})
        assert wrong.status_code == 401
        right = client.post("/api/profiles", json={}, headers={"X-API-Key": "s3cret"})
        assert right.status_code == 201
        assert client.get("/api/health").status_code == 200  # reads stay open
        assert client.get("/api/model").json()["write_needs_api_key"] is True


def test_cors_is_off_by_default(client):
    response = client.get("/api/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_web_page_and_its_assets_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/app.js">' in page.text
    assert client.get("/static/app.js").status_code == 200
    assert "https://" not in page.text  # no CDN


@pytest.mark.realdata
def test_ml100k_new_person_from_ten_ratings(ml100k_model_dir, tmp_path):
    settings = ServiceSettings(ml100k_model_dir, database_url=f"sqlite:///{tmp_path / 'p.db'}")
    with TestClient(create_app(settings)) as client:
        star_wars = client.get("/api/movies/search", params={"q": "star wars"}).json()[0]
        assert star_wars["movie_id"] == 50
        sci_fi = [50, 181, 172, 271, 1, 82, 89, 96, 195, 228]  # Star Wars, Jedi, Empire, ...
        body = {"ratings": [{"movie_id": m, "rating": 5} for m in sci_fi]}
        recs = client.post("/api/profiles", json=body).json()["recommendations"]
        assert len(recs) == 10 and not {r["movie_id"] for r in recs} & set(sci_fi)
        top = client.get("/api/users/1/recommendations", params={"k": 10}).json()
        assert len(top) == 10
