"""The page links the model's `movierec explore` report, served at /report, when one exists."""

from __future__ import annotations

import shutil

from fastapi.testclient import TestClient

from movierec.service.app import create_app
from movierec.service.settings import ServiceSettings

REPORT = "<!doctype html><title>what the model learned</title><p>embedding map</p>"


def test_without_a_report_the_page_has_no_link_and_report_says_how_to_make_one(client):
    assert client.get("/api/model").json()["report_url"] is None
    missing = client.get("/report")
    assert missing.status_code == 404
    assert "movierec explore" in missing.json()["detail"]


def test_a_configured_report_is_linked_and_served(tiny_model_dir, tmp_path):
    (tmp_path / "insight").mkdir()
    (tmp_path / "insight" / "report.html").write_text(REPORT)
    settings = ServiceSettings(tiny_model_dir, database_url=f"sqlite:///{tmp_path}/p.db",
                               report_path=tmp_path / "insight")
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/model").json()["report_url"] == "/report"
        served = client.get("/report")
    assert served.status_code == 200 and served.text == REPORT
    assert served.headers["content-type"].startswith("text/html")


def test_a_report_written_into_the_model_folder_later_appears(tiny_model_dir, tmp_path):
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model")
    settings = ServiceSettings(model_dir, database_url=f"sqlite:///{tmp_path}/p.db")
    with TestClient(create_app(settings)) as client:
        assert client.get("/report").status_code == 404
        (model_dir / "report").mkdir()
        (model_dir / "report" / "report.html").write_text(REPORT)
        assert client.get("/api/model").json()["report_url"] == "/report"
        assert client.get("/report").text == REPORT
    assert 'id="report-link"' in client.get("/").text
