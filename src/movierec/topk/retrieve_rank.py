"""Retrieve-then-rank: a dot-product retriever's vector index proposes candidates, a second
model re-orders them (the two-stage shape of production recommenders)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from movierec.errors import ConfigError
from movierec.topk.interactions import interactions_from_ratings
from movierec.topk.neural import PresetRanker


class RetrieveThenRank:
    """`retriever` (a dot-product preset, default two-tower) fills a vector index of kind
    `index`; for each user it retrieves `candidates` movies the user has not seen, and
    `ranker` (any top-k scorer: a `PresetRanker` or a baseline such as EASE) orders them.
    Movies outside the candidates score -inf, so metrics that need a score for any movie
    (TFRS factorized top-k, which counts seen movies; the NCF sampled protocol) do not apply."""

    scores_only_candidates = True

    def __init__(self, ranker: object, *, retriever: PresetRanker | None = None,
                 candidates: int = 100, index: str = "exact") -> None:
        if candidates < 1:
            raise ConfigError(f"candidates must be at least 1, got {candidates}")
        self.retriever = retriever if retriever is not None else PresetRanker("two-tower")
        self.ranker, self.candidates, self.index_kind = ranker, candidates, index
        self.name = f"{self.retriever.name}>{getattr(ranker, 'name', type(ranker).__name__)}"

    def fit_ratings(self, ratings: pd.DataFrame, movies: pd.DataFrame | None = None,
                    users: pd.DataFrame | None = None) -> RetrieveThenRank:
        self.retriever.fit_ratings(ratings, movies, users)
        self.retriever.rec.build_index(self.index_kind)
        if hasattr(self.ranker, "fit_ratings"):
            self.ranker.fit_ratings(ratings, movies, users)
        else:
            self.ranker.fit(interactions_from_ratings(ratings, ratings.iloc[:0]).train)
        return self

    def retrieve(self, users: np.ndarray) -> np.ndarray:
        """[len(users), candidates] unseen movie indices from the index (-1 pads)."""
        from movierec.index import user_query_vectors

        rec = self.retriever.rec
        queries = user_query_vectors(rec.model, torch.from_numpy(users))
        seen = [rec.seen.movies_of(int(u)) for u in users]
        positions, _ = rec.index.search(queries, self.candidates, exclude=seen)
        return positions

    def score(self, users: np.ndarray) -> torch.Tensor:
        positions = torch.from_numpy(self.retrieve(users))
        found = positions >= 0
        ranked = torch.as_tensor(self.ranker.score(users), dtype=torch.float32)
        scores = torch.full_like(ranked, -torch.inf)
        rows = torch.arange(len(users))[:, None].expand_as(positions)
        scores[rows[found], positions[found]] = ranked[rows[found], positions[found]]
        return scores
