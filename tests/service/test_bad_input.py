"""Input JSON can spell but the service must not take: NaN, Infinity, lone surrogates, and
ratings off the model's scale (1..5 here). Each is a 422 whose JSON body encodes and names
the value; nothing is stored."""

from __future__ import annotations

import json

import pytest


def send(client, method: str, path: str, body: str):
    return client.request(method, path, content=body.encode(),
                          headers={"content-type": "application/json"})


def strict_json(response) -> object:
    """The body as strict JSON in UTF-8 (no NaN, no lone surrogate), or an error."""
    return json.loads(response.content.decode("utf-8"),
                      parse_constant=lambda c: pytest.fail(f"{c} in a response"))


@pytest.fixture
def profile_id(client) -> int:
    return client.post("/api/profiles", json={}).json()["profile"]["profile_id"]


@pytest.mark.parametrize(("number", "shown"), [
    ("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e400", "Infinity"),
    ("6", "6.0"), ("0.5", "0.5"), ("-1", "-1.0"), ("5.01", "5.01"), ('"NaN"', "NaN"),
])
def test_a_rating_off_the_scale_is_a_422_naming_value_and_scale(client, profile_id, number,
                                                                 shown):
    for method, path, body in [
        ("PUT", f"/api/profiles/{profile_id}/ratings/7", f'{{"rating": {number}}}'),
        ("POST", "/api/profiles", f'{{"ratings": [{{"movie_id": 7, "rating": {number}}}]}}'),
    ]:
        response = send(client, method, path, body)
        assert response.status_code == 422, body
        assert strict_json(response)["detail"] == (
            f"rating {shown} is outside the model's scale 1..5")
    assert client.get(f"/api/profiles/{profile_id}").json()["ratings"] == []
    assert client.get("/api/model").json()["profiles"] == 1  # the fixture's, no other


@pytest.mark.parametrize("rating", [1, 5, 3.5])
def test_ratings_on_the_scale_are_taken(client, profile_id, rating):
    response = client.put(f"/api/profiles/{profile_id}/ratings/7", json={"rating": rating})
    assert response.status_code == 200
    assert response.json()["profile"]["ratings"][0]["rating"] == rating


@pytest.mark.parametrize("body", [
    r'{"name": "\ud800"}',
    r'{"name": "ann\udfffe"}',
    r'{"preferences": {"liked_genres": ["\udc80"]}}',
    r'{"\ud800": 1}',
    r'{"unexpected": NaN}',
    r'{"ratings": [{"movie_id": NaN, "rating": 3}]}',
    r'{"ratings": [{"movie_id": Infinity, "rating": 3}]}',
    r'{"preferences": {"year_min": -Infinity}}',
])
def test_unencodable_input_is_a_422_that_encodes(client, body):
    response = send(client, "POST", "/api/profiles", body)
    assert response.status_code == 422
    detail = strict_json(response)["detail"]
    assert detail and ("\\ud" in json.dumps(detail) or "Infinity" in str(detail)
                       or "NaN" in str(detail))  # the echo spells the value out
    assert client.get("/api/model").json()["profiles"] == 0
