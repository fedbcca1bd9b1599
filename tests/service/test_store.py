"""The profile store on SQLite and on a real PostgreSQL server, through the same code.

PostgreSQL runs when MOVIEREC_TEST_POSTGRES_URL names a server (`.ci/run` starts a
throwaway one); each test works in its own schema, dropped afterwards. Otherwise it skips.
"""

from __future__ import annotations

import os
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from movierec.coldstart import Preferences
from movierec.errors import UnknownIdError
from movierec.service.app import create_app
from movierec.service.settings import ServiceSettings
from movierec.service.store import ProfileStore

POSTGRES_ENV = "MOVIEREC_TEST_POSTGRES_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'profiles.sqlite3'}"
        return
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set (no PostgreSQL server to test against)")
    schema = f"movierec_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(database_url):
    opened = ProfileStore(database_url)
    yield opened
    opened.close()


def test_store_keeps_profiles_ratings_and_preferences(store):
    tastes = Preferences(("Drama",), ("Horror",), 1970, 1999)
    first = store.create("ann", tastes, {17: 4.5, 2**62: 1.0})
    second = store.create("", Preferences(), {})
    assert second.profile_id > first.profile_id and store.count() == 2
    got = store.get(first.profile_id)
    assert (got.name, got.preferences, got.ratings) == ("ann", tastes, {17: 4.5, 2**62: 1.0})
    store.set_rating(first.profile_id, 17, 2.0)  # replaces
    store.set_rating(first.profile_id, 27, 5.0)  # adds
    store.delete_rating(first.profile_id, 2**62)
    store.set_preferences(second.profile_id, Preferences(year_min=1980))
    assert store.get(first.profile_id).ratings == {17: 2.0, 27: 5.0}
    assert [(p.profile_id, p.ratings, p.preferences.year_min) for p in store.all()] == [
        (first.profile_id, {17: 2.0, 27: 5.0}, 1970), (second.profile_id, {}, 1980)]


def test_store_names_unknown_profiles_and_ratings(store):
    profile = store.create("", Preferences(), {7: 3.0})
    missing = profile.profile_id + 1
    for attempt in (lambda: store.get(missing), lambda: store.set_rating(missing, 7, 3.0),
                    lambda: store.set_preferences(missing, Preferences())):
        with pytest.raises(UnknownIdError, match=f"profile {missing} does not exist"):
            attempt()
    with pytest.raises(UnknownIdError, match=f"profile {profile.profile_id} has no rating"):
        store.delete_rating(profile.profile_id, 8)
    assert store.get(profile.profile_id).ratings == {7: 3.0}


def test_service_profiles_come_back_after_restart(tiny_model_dir, database_url):
    settings = ServiceSettings(tiny_model_dir, database_url=database_url)
    with TestClient(create_app(settings)) as first:
        movies = [m["movie_id"] for m in first.get("/api/movies/search",
                                                    params={"q": "movie", "limit": 6}).json()]
        ratings = {m: 5.0 if i < 4 else 1.0 for i, m in enumerate(movies)}
        body = {"ratings": [{"movie_id": m, "rating": r} for m, r in ratings.items()]}
        pid = first.post("/api/profiles", json=body).json()["profile"]["profile_id"]
        before = first.get(f"/api/profiles/{pid}/recommendations").json()
    with TestClient(create_app(settings)) as second:
        rated = second.get(f"/api/profiles/{pid}").json()["ratings"]
        after = second.get(f"/api/profiles/{pid}/recommendations").json()
    assert {r["movie_id"]: r["rating"] for r in rated} == ratings
    assert [m["movie_id"] for m in after] == [m["movie_id"] for m in before]
