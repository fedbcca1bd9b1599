"""Per-user NDCG@k of a fitted `Recommender`'s lists and a paired bootstrap of the difference
between two models: is a gap between two rows of a top-k table larger than the test users'
spread? (Evaluation only: nothing here picks a setting.)"""

from __future__ import annotations

import numpy as np
import pandas as pd

from movierec import Recommender


def per_user_ndcg(rec: Recommender, test: pd.DataFrame, k: int = 10) -> pd.Series:
    """NDCG@k of each test user's list (seen movies excluded), over the test rows whose user
    and movie the model knows (the rows `Recommender.ranking_metrics` scores)."""
    known = test[rec.user_ids.to_index(test["user_id"].to_numpy(), missing="negative") >= 0]
    known = known[rec.movie_ids.to_index(known["movie_id"].to_numpy(), missing="negative") >= 0]
    relevant = known.groupby("user_id")["movie_id"].agg(set)
    lists = rec.recommend_many(relevant.index.to_numpy(), k=k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    gains = lists.assign(hit=[m in relevant[u] for u, m in zip(lists["user_id"],
                                                                 lists["movie_id"], strict=True)])
    dcg = (gains["hit"] * discounts[gains["rank"] - 1]).groupby(gains["user_id"]).sum()
    ideal = relevant.map(lambda movies: discounts[:min(len(movies), k)].sum())
    return (dcg.reindex(relevant.index, fill_value=0.0) / ideal).rename(f"ndcg@{k}")


def paired_bootstrap(a: pd.Series, b: pd.Series, rounds: int = 2000, seed: int = 0
                     ) -> tuple[float, float, float]:
    """Mean of a - b over the users both hold, and its 95% bootstrap interval (users
    resampled with replacement)."""
    diff = (a - b).dropna().to_numpy()
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(rounds, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(low), float(high)
