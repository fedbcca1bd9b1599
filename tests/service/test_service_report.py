"""The page links the model's `movierec explore` report, served at /report, when one exists."""

from __future__ import annotations

import re
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


def test_the_missing_report_answer_shows_no_server_path(client, tiny_model_dir):
    detail = client.get("/report").json()["detail"]
    assert str(tiny_model_dir.resolve().parent) not in detail
    assert not re.search(r"(^|[\s`])/\w", detail)  # no absolute path of any kind


def test_a_report_symlinked_out_of_the_model_folder_is_not_served(tiny_model_dir, tmp_path):
    secret = tmp_path / "secret.html"
    secret.write_text("server secrets")
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model")
    (model_dir / "report").mkdir()
    (model_dir / "report" / "report.html").symlink_to(secret)
    (model_dir / "report.html").symlink_to("/etc/passwd")
    settings = ServiceSettings(model_dir, database_url=f"sqlite:///{tmp_path}/p.db")
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/model").json()["report_url"] is None
        refused = client.get("/report")
        (model_dir / "report" / "report.html").unlink()
        (model_dir / "report" / "report.html").mkdir()  # not a regular file either
        assert client.get("/report").status_code == 404
    assert refused.status_code == 404 and "secrets" not in refused.text


def test_a_symlink_inside_the_model_folder_is_followed(tiny_model_dir, tmp_path):
    model_dir = shutil.copytree(tiny_model_dir, tmp_path / "model")
    (model_dir / "report").mkdir()
    (model_dir / "report" / "v2.html").write_text(REPORT)
    (model_dir / "report" / "report.html").symlink_to("v2.html")
    settings = ServiceSettings(model_dir, database_url=f"sqlite:///{tmp_path}/p.db")
    with TestClient(create_app(settings)) as client:
        served = client.get("/report")
    assert served.status_code == 200 and served.text == REPORT
    assert "script-src" not in served.headers["content-security-policy"]
