"""The real server (uvicorn in a child process): bad input leaves the connection open, the
Host check and security headers hold on the wire."""

from __future__ import annotations

import http.client
import json

import pytest

from movierec.service.process import ServerProcess

pytestmark = pytest.mark.slow

BAD_BODIES = [
    ("POST", "/api/profiles", r'{"name": "\ud800"}', 422),
    ("POST", "/api/profiles", r'{"ratings": [{"movie_id": 7, "rating": NaN}]}', 422),
    ("POST", "/api/profiles", r'{"unexpected": Infinity}', 422),
    ("PUT", "/api/profiles/1/ratings/7", '{"rating": -Infinity}', 422),
    ("PUT", "/api/profiles/1/ratings/7", '{"rating": 9}', 422),
    ("POST", "/api/profiles", "{not json", 422),
]


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    with ServerProcess(tiny_model_dir, f"sqlite:///{folder / 'p.db'}",
                       log_path=folder / "server.log") as running:
        yield running


def test_bad_input_leaves_the_connection_open(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/api/profiles", body="{}",
                       headers={"content-type": "application/json"})
    assert connection.getresponse().read() and connection.sock is not None
    sock = connection.sock
    for method, path, body, status in BAD_BODIES:
        connection.request(method, path, body=body.encode(),
                           headers={"content-type": "application/json"})
        response = connection.getresponse()
        assert response.status == status, (body, response.read())
        assert json.loads(response.read().decode("utf-8"))["detail"]
        assert response.getheader("connection") != "close"
    connection.request("GET", "/api/health")
    assert connection.getresponse().read() == b'{"status":"ok"}'
    assert connection.sock is sock  # one connection throughout
    connection.close()


def test_only_the_bound_address_and_loopback_are_served(server):
    for host, status in [(f"127.0.0.1:{server.port}", 200), (f"localhost:{server.port}", 200),
                         (f"evil.example:{server.port}", 400), ("192.168.1.7", 400)]:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/api/health", headers={"Host": host})
        response = connection.getresponse()
        assert response.status == status, host
        assert response.getheader("x-content-type-options") == "nosniff"
        assert response.getheader("content-security-policy").startswith("default-src 'self'")
        connection.close()


def test_allowed_host_replaces_the_default(tiny_model_dir, tmp_path):
    options = ["--allowed-host", "movies.example.org", "--allowed-host", "127.0.0.1"]
    with ServerProcess(tiny_model_dir, f"sqlite:///{tmp_path / 'p.db'}",
                       log_path=tmp_path / "server.log", options=options) as server:
        for host, status in [("movies.example.org", 200), (f"localhost:{server.port}", 400),
                             (f"[::1]:{server.port}", 400)]:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", "/api/health", headers={"Host": host})
            assert connection.getresponse().status == status, host
            connection.close()
