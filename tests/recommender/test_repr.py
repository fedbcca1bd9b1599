"""What a Recommender shows in a terminal and in Jupyter."""

from __future__ import annotations

import torch

from movierec import Recommender


def test_repr_before_and_after_fit(ratings_factory):
    torch.set_num_threads(1)
    rec = Recommender("biased-mf", progress=False, epochs=2, dim=4)
    assert repr(rec) == "Recommender(preset: biased-mf, state: not fitted)"
    rec.fit(ratings_factory())
    text = repr(rec)
    rmse = rec.history.best_val_rmse
    assert "ranker: biased-mf, rater: biased-mf" in text
    assert "60 users x 40 movies" in text and "state: fitted" in text
    assert f"best validation: RMSE {rmse:.4f}" in text


def test_ranker_with_rater_and_html(ratings_factory):
    torch.set_num_threads(1)
    rec = Recommender("ease", rater="biased-mf", progress=False, epochs=1).fit(ratings_factory())
    text = repr(rec)
    assert "ranker: ease, rater: biased-mf" in text and "rater validation: RMSE" in text
    page = rec._repr_html_()
    assert page.startswith("<table>") and page.count("<tr>") == 6  # no ranker validation
    assert "<td style='text-align:left'>60 users x 40 movies</td>" in page
    assert "<td style='text-align:left'>not fitted</td>" in Recommender("ease")._repr_html_()
