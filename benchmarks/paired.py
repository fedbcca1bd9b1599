"""A paired bootstrap of the difference between two models' per-user metrics
(`Recommender.user_ranking_metrics`): is a gap between two rows of a top-k table larger than
the test users' spread? (Evaluation only: nothing here picks a setting.)"""

from __future__ import annotations

import numpy as np
import pandas as pd


def paired_bootstrap(a: pd.Series, b: pd.Series, rounds: int = 2000, seed: int = 0
                     ) -> tuple[float, float, float]:
    """Mean of a - b over the users both hold, and its 95% bootstrap interval (users
    resampled with replacement)."""
    diff = (a - b).dropna().to_numpy()
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(rounds, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(low), float(high)
