"""`RetrieveThenRank`: a retriever proposes each user's candidates, a ranker orders them (the
two-stage shape of production recommenders)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch

from movierec.errors import ConfigError
from movierec.models.ranking_blend import RankingBlend


class RetrieveThenRank(RankingBlend):
    """members = (retriever, ranker): for each user the retriever's `candidates` best movies
    they have not rated, and the movies they rated, get the ranker's scores; every other
    movie scores -inf, so a list holds at most `candidates` unseen movies. Both members fit
    on all the training ratings (nothing to choose on validation). Metrics that need a score
    for every movie (TFRS factorized top-k, sampled protocols) do not apply."""

    default_preset = "retrieve-rank"
    training_regime: ClassVar[str] = "ranking_members"

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0),
                 members: tuple[str, ...] = ("two-tower", "ease"),
                 member_options: tuple[dict, ...] | None = None, candidates: int = 100) -> None:
        if len(tuple(members)) != 2:
            raise ConfigError(f"retrieve-rank needs members (retriever, ranker), got {members}")
        if candidates < 1:
            raise ConfigError(f"candidates must be at least 1, got {candidates}")
        super().__init__(n_users, n_movies, rating_range, members, member_options,
                         weights=(0.0, 1.0))
        self.candidates = int(candidates)

    def config(self) -> dict:
        cfg = super().config()
        del cfg["weights"]
        return cfg

    def score(self, users: torch.Tensor) -> torch.Tensor:
        retriever, ranker = self.member_models
        proposed = retriever.score(users).clone()
        seen = ranker.interactions(users.cpu().numpy()).tocoo()  # type: ignore[operator]
        seen_at = (torch.from_numpy(seen.row.astype(np.int64)).to(proposed.device),
                   torch.from_numpy(seen.col.astype(np.int64)).to(proposed.device))
        proposed[seen_at] = -torch.inf
        chosen = torch.topk(proposed, min(self.candidates, self.n_movies), dim=1).indices
        ranked = ranker.score(users)
        scores = torch.full_like(ranked, -torch.inf)
        scores[seen_at] = ranked[seen_at]  # the facade excludes them unless asked not to
        return scores.scatter_(1, chosen, ranked.gather(1, chosen))

    def similar_movie_scores(self, movies: torch.Tensor) -> torch.Tensor:
        return self.member_models[1].similar_movie_scores(movies)

    def roles(self) -> dict[str, str | None]:
        retriever, ranker = self.members
        return {"ranker": f"{self.preset} ({retriever} top {self.candidates} > {ranker})",
                "rater": None}
