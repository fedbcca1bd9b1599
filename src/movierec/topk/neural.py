"""Any movierec preset as a top-k scorer, trained through the facade: rating presets rank by
predicted rating, two-tower by the dot product of its towers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch


class PresetRanker:
    """Fits `Recommender(preset, **options)` on the ratings; `score` takes user indices of
    the same training frame (the facade's id maps are its sorted unique ids, as are those of
    `interactions_from_ratings`)."""

    def __init__(self, preset: str = "biased-mf", **options: object) -> None:
        self.name, self.preset, self.options = preset, preset, options

    def fit_ratings(self, ratings: pd.DataFrame, movies: pd.DataFrame | None = None,
                    users: pd.DataFrame | None = None) -> PresetRanker:
        from movierec import Recommender

        self.rec = Recommender(self.preset, progress=False, **self.options)
        self.rec.fit(ratings, movies=movies, users=users)
        return self

    def score(self, users: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return self.rec.model.score(torch.from_numpy(users))


class TwoTowerRanker(PresetRanker):
    """The `two-tower` preset (features from `movies` and `users` when given)."""

    def __init__(self, **options: object) -> None:
        super().__init__("two-tower", **options)
