"""The profile database: start-up refuses one that cannot be written, in one line; a write
that fails at run time is a 503 JSON answer, and loses nothing acknowledged."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from movierec.service.app import create_app
from movierec.service.settings import ServiceSettings
from movierec.service.store import ProfileStore, ProfileStoreError


@contextmanager
def read_only(engine):
    """Every new connection of `engine` refuses writes, as on a read-only database file."""

    def query_only(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")

    event.listen(engine, "connect", query_only)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(engine, "connect", query_only)
        engine.dispose()


@pytest.mark.parametrize(("url", "message"), [
    ("sqlite:///{tmp}/missing/p.db", "database folder {tmp}/missing does not exist"),
    ("sqlite:///{tmp}/a-file/p.db", "database folder {tmp}/a-file is not a folder"),
    ("sqlite:///{tmp}", "database {tmp} is not a file"),
    ("sqlite:///file:{tmp}/ro.db?mode=ro&uri=true",
     "cannot be written: attempt to write a readonly database"),
    ("sqlite:///{tmp}/a-file", "cannot be written: file is not a database"),
    ("mysql://user:pw@host/db", "database 'mysql' is not supported"),
    ("not a url", "is not a SQLAlchemy URL"),
])
def test_a_database_that_cannot_be_written_is_refused_in_one_line(tmp_path, url, message):
    (tmp_path / "a-file").write_text("not a database, " * 100)
    ProfileStore(f"sqlite:///{tmp_path}/ro.db").close()  # exists, then opened read-only
    with pytest.raises(ProfileStoreError) as refused:
        ProfileStore(url.format(tmp=tmp_path))
    assert message.format(tmp=tmp_path) in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_file_is_refused(tmp_path):
    ProfileStore(f"sqlite:///{tmp_path}/p.db").close()
    (tmp_path / "p.db").chmod(0o444)
    with pytest.raises(ProfileStoreError, match="is read-only"):
        ProfileStore(f"sqlite:///{tmp_path}/p.db")


def test_serve_says_what_is_wrong_in_one_line(tiny_model_dir, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "from movierec.cli.app import main; main()", "serve",
         str(tiny_model_dir), "--db", f"sqlite:///{tmp_path}/missing/p.db"],
        capture_output=True, text=True, timeout=120)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 2
    assert output == f"error: database folder {tmp_path}/missing does not exist; create it " \
                     "or pass another --db"


def test_a_write_the_database_refuses_is_a_503_and_nothing_acknowledged_is_lost(settings):
    with TestClient(create_app(settings)) as client:
        pid = client.post("/api/profiles", json={}).json()["profile"]["profile_id"]
        assert client.put(f"/api/profiles/{pid}/ratings/7", json={"rating": 4}).status_code \
            == 200
        with read_only(client.app.state.profiles.store.engine):
            refused = [client.put(f"/api/profiles/{pid}/ratings/17", json={"rating": 5}),
                       client.put(f"/api/profiles/{pid}/ratings/7", json={"rating": 1}),
                       client.post("/api/profiles", json={"name": "bob"}),
                       client.delete(f"/api/profiles/{pid}/ratings/7")]
            during = client.get(f"/api/profiles/{pid}")  # reads still work
        assert [r.status_code for r in refused] == [503] * 4
        assert all("profile database" in r.json()["detail"] for r in refused)
        assert refused[0].headers["retry-after"] == "5"
        assert during.status_code == 200
        after = client.get(f"/api/profiles/{pid}").json()["ratings"]
        assert [(r["movie_id"], r["rating"]) for r in after] == [(7, 4.0)]
        assert client.get("/api/model").json()["profiles"] == 1
        again = client.put(f"/api/profiles/{pid}/ratings/17", json={"rating": 5})
        assert again.status_code == 200  # the service recovers once the database does
    with TestClient(create_app(ServiceSettings(settings.model_dir, settings.database_url))) as c:
        assert len(c.get(f"/api/profiles/{pid}").json()["ratings"]) == 2
