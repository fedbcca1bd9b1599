"""Who may read profiles: with an API key, profile reads need it like writes (profile ids are
sequential); without one, `movierec serve` warns in one line that everything is open."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from movierec.cli.app import app as cli
from movierec.service.app import create_app
from movierec.service.settings import ServiceSettings

KEY = {"X-API-Key": "s3cret"}


def test_profile_reads_need_the_api_key_when_one_is_set(tiny_model_dir, tmp_path):
    settings = ServiceSettings(tiny_model_dir, database_url=f"sqlite:///{tmp_path / 'p.db'}",
                               api_key="s3cret")
    with TestClient(create_app(settings)) as client:
        body = {"ratings": [{"movie_id": 7, "rating": 5}]}
        pid = client.post("/api/profiles", json=body, headers=KEY).json()["profile"]["profile_id"]
        for path in (f"/api/profiles/{pid}", f"/api/profiles/{pid}/recommendations"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers={"X-API-Key": "nope"}).status_code == 401
            assert client.get(path, headers=KEY).status_code == 200
        # catalogue and known-user reads stay open
        assert client.get("/api/movies/7").status_code == 200
        assert client.get("/api/users/2/recommendations").status_code == 200


def test_without_a_key_profile_reads_are_open(client):
    pid = client.post("/api/profiles", json={}).json()["profile"]["profile_id"]
    assert client.get(f"/api/profiles/{pid}").json()["profile_id"] == pid
    assert client.get("/api/model").json()["write_needs_api_key"] is False


@pytest.fixture
def served(monkeypatch) -> list[dict]:
    """`movierec serve` up to the point where uvicorn would start; returns its run calls."""
    calls: list[dict] = []
    monkeypatch.setattr("movierec.service.server.uvicorn.run",
                        lambda app, **kwargs: calls.append(kwargs))
    monkeypatch.setattr("torch.set_num_threads", lambda n: None)  # keep the test process's
    monkeypatch.delenv("MOVIEREC_API_KEY", raising=False)
    return calls


OPEN = "writes and profile reads are open to anyone who can reach http://127.0.0.1:8000/"


def test_serve_without_a_key_warns_in_one_line_that_everything_is_open(
        tiny_model_dir, tmp_path, served, caplog):
    with caplog.at_level(logging.WARNING, logger="movierec.service.server"):
        result = CliRunner().invoke(cli, ["serve", str(tiny_model_dir), "--db",
                                          f"sqlite:///{tmp_path / 'p.db'}"])
    assert result.exit_code == 0, result.output
    assert served == [{"host": "127.0.0.1", "port": 8000, "log_level": "warning",
                       "access_log": False, "http": served[0]["http"]}]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and OPEN in warnings[0] and "\n" not in warnings[0]


def test_serve_with_a_key_does_not_warn(tiny_model_dir, tmp_path, served, caplog):
    with caplog.at_level(logging.WARNING, logger="movierec.service.server"):
        result = CliRunner().invoke(cli, ["serve", str(tiny_model_dir), "--api-key", "k",
                                          "--db", f"sqlite:///{tmp_path / 'p.db'}"])
    assert result.exit_code == 0, result.output
    assert len(served) == 1
    assert not [r for r in caplog.records if "open to anyone" in r.getMessage()]
