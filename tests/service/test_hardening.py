"""Security headers on every answer, and the Host allow-list against DNS rebinding."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from movierec.service.app import create_app
from movierec.service.hardening import (
    PAGE_POLICY,
    REPORT_POLICY,
    default_allowed_hosts,
    host_name,
)
from movierec.service.settings import ServiceSettings

FIXED = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
         "referrer-policy": "no-referrer"}


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("GET", "/", {}, 200),
    ("GET", "/static/app.js", {}, 200),
    ("GET", "/static/nothing.js", {}, 404),
    ("GET", "/api/health", {}, 200),
    ("GET", "/api/users/999/recommendations", {}, 404),
    ("GET", "/api/users/1/recommendations?k=0", {}, 422),
    ("POST", "/api/profiles", {"content": "x" * 70_000}, 413),
    ("PUT", "/api/profiles/1/ratings/7", {"content": '{"rating": NaN}'}, 422),
    ("GET", "/report", {}, 404),
])
def test_every_answer_carries_the_security_headers(client, method, path, kwargs, status):
    response = client.request(method, path, **kwargs)
    assert response.status_code == status
    assert {name: response.headers.get(name) for name in FIXED} == FIXED
    assert response.headers["content-security-policy"] == (
        REPORT_POLICY if path == "/report" else PAGE_POLICY)


def test_the_page_policy_allows_only_the_pages_own_files_and_the_report_no_script():
    assert "default-src 'self'" in PAGE_POLICY and "frame-ancestors 'none'" in PAGE_POLICY
    assert "'unsafe-inline'" not in PAGE_POLICY and "script-src" not in PAGE_POLICY
    assert "default-src 'none'" in REPORT_POLICY and "script-src" not in REPORT_POLICY


@pytest.mark.parametrize(("header", "name"), [
    ("localhost", "localhost"), ("LocalHost:8000", "localhost"), ("127.0.0.1:80", "127.0.0.1"),
    ("[::1]:8000", "[::1]"), ("::1", "[::1]"), ("example.org:", "example.org:"),
    ("evil.example:8000", "evil.example"),
])
def test_host_name_drops_the_port_and_case(header, name):
    assert host_name(header) == name


def test_default_hosts_are_the_bound_address_and_loopback():
    assert default_allowed_hosts("127.0.0.1") == ("127.0.0.1", "localhost", "[::1]")
    assert default_allowed_hosts("0.0.0.0") == ("0.0.0.0", "localhost", "127.0.0.1", "[::1]")
    assert default_allowed_hosts("::") == ("[::]", "localhost", "127.0.0.1", "[::1]")


def test_other_hosts_get_a_400_json_error(tiny_model_dir, tmp_path):
    settings = ServiceSettings(tiny_model_dir, database_url=f"sqlite:///{tmp_path / 'p.db'}",
                               allowed_hosts=("localhost", "movies.example.org"))
    with TestClient(create_app(settings), base_url="http://localhost:8000") as client:
        assert client.get("/api/health").status_code == 200
        assert client.get("/api/health", headers={"host": "Movies.Example.org"}).status_code \
            == 200
        refused = client.post("/api/profiles", json={}, headers={"host": "evil.example:8000"})
        assert refused.status_code == 400
        assert "evil.example" in refused.json()["detail"]
        assert refused.headers["x-frame-options"] == "DENY"
        assert client.get("/api/model").json()["profiles"] == 0  # the write never ran


def test_a_star_allows_any_host(tiny_model_dir, tmp_path):
    settings = ServiceSettings(tiny_model_dir, database_url=f"sqlite:///{tmp_path / 'p.db'}",
                               allowed_hosts=("*",))
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/health", headers={"host": "anything.example"}).status_code == 200


def test_even_a_server_error_carries_the_headers(settings, monkeypatch):
    app = create_app(settings)
    monkeypatch.setattr(app.state.model.catalog, "search", lambda *_args: 1 / 0)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/movies/search", params={"q": "star"})
    assert response.status_code == 500
    assert "ZeroDivisionError" in response.json()["detail"]
    assert {name: response.headers.get(name) for name in FIXED} == FIXED
