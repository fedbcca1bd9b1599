"""The lock-free read paths (numpy copies of frozen model parts, start-up top-N lists) answer
like the model, and the coalescing transport sends each response in one write."""

from __future__ import annotations

import asyncio

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from movierec.service.app import create_app
from movierec.service.guarded import GuardedRecommender
from movierec.service.known_users import KnownUserScorer
from movierec.service.settings import ServiceSettings
from movierec.service.transport import CoalescingTransport


@pytest.mark.parametrize("preset", ["dot", "biased-mf", "biased-mf-bce"])
def test_scorer_matches_the_model_for_every_factorisation_output(preset, fit_tiny):
    rec = fit_tiny(preset, epochs=5)
    scorer = KnownUserScorer(rec, len(rec.user_ids))
    for user_id in (1, 17, 60):
        row = int(rec.user_ids.to_index([user_id])[0])
        rows, ratings = scorer.recommend(row, 8)
        want = rec.movie_scores(user_id)
        seen = set(rec.seen.movies_of(row).tolist())
        assert not seen & set(rows.tolist())
        np.testing.assert_allclose(ratings, want.iloc[rows].to_numpy(), atol=1e-5)
        unseen = want.drop(index=rec.movie_ids.ids[sorted(seen)])
        assert ratings[-1] >= unseen.nlargest(8).iloc[-1] - 1e-5  # nothing better was skipped
        assert list(ratings) == sorted(ratings, reverse=True)
        pairs = pd.DataFrame({"user_id": [user_id] * 3, "movie_id": rec.movie_ids.ids[:3]})
        np.testing.assert_allclose(scorer.ratings(row, np.arange(3)), rec.predict(pairs),
                                   atol=1e-5)


def test_scorer_keeps_to_allowed_movies(fit_tiny):
    rec = fit_tiny("biased-mf", epochs=5)
    allowed = np.zeros(len(rec.movie_ids), dtype=bool)
    allowed[[3, 5, 7]] = True
    rows, _ = KnownUserScorer(rec, len(rec.user_ids)).recommend(0, 10, allowed)
    assert set(rows.tolist()) <= {3, 5, 7} and len(rows) >= 1


def test_models_without_a_numpy_copy_are_served_from_start_up_lists(fit_tiny, tmp_path):
    rec = fit_tiny("mlp", epochs=5)
    guarded = GuardedRecommender(rec)
    assert guarded.scorer is None and guarded.lists is not None
    settings = ServiceSettings(tmp_path / "model", database_url=f"sqlite:///{tmp_path}/p.db")
    with TestClient(create_app(settings, rec)) as client:
        top = client.get("/api/users/4/recommendations", params={"k": 5}).json()
        predicted = client.get("/api/users/4/predictions/7").json()["rating"]
    assert [m["movie_id"] for m in top] == rec.recommend(4, 5)["movie_id"].tolist()
    pair = pd.DataFrame({"user_id": [4], "movie_id": [7]})
    assert predicted == pytest.approx(float(rec.predict(pair)[0]), abs=1e-6)


def test_known_user_answers_do_not_move_when_profiles_fold_in(client):
    before = client.get("/api/users/2/recommendations", params={"k": 10}).json()
    movies = [m["movie_id"] for m in before[:5]]
    body = {"ratings": [{"movie_id": m, "rating": 1.0} for m in movies]}
    assert client.post("/api/profiles", json=body).status_code == 201
    assert client.get("/api/users/2/recommendations", params={"k": 10}).json() == before


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"info {name}"


def test_writes_within_one_loop_step_go_out_as_one():
    async def scenario() -> RecordingTransport:
        real = RecordingTransport()
        proxy = CoalescingTransport(real, asyncio.get_running_loop())
        proxy.write(b"HTTP/1.1 200 OK\r\n\r\n")
        proxy.write(b"{}")
        assert real.writes == [] and proxy.get_write_buffer_size() == 21
        await asyncio.sleep(0)
        proxy.write(b"last")
        proxy.close()
        assert proxy.get_extra_info("peername") == "info peername"
        return real

    real = asyncio.run(scenario())
    assert real.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}", b"last"] and real.closed
