"""The model's own numbers for a report: what it is and how it scored, with the source named."""

from __future__ import annotations

import pandas as pd

from movierec.analysis.embeddings import vector_columns
from movierec.recommender import Recommender


def model_summary(rec: Recommender) -> pd.DataFrame:
    """Rows of (item, value, source): preset, size and the validation scores from history."""
    dim = len(vector_columns(rec.embeddings("movie")))  # raises NotFittedError first
    rows = [
        ("model preset", rec.preset, "config.json"),
        ("users / movies", f"{len(rec.user_ids):,} / {len(rec.movie_ids):,}", "config.json"),
        ("embedding dim", str(dim), "weights.safetensors"),
        ("parameters", f"{sum(p.numel() for p in rec.model.parameters()):,}",
         "weights.safetensors"),
    ]
    history = rec.history
    if history is None or not history.records:
        return _frame([*rows, ("validation scores", "not recorded", "no history.json")])
    source = (f"history.json: fit()'s random {rec.validation_fraction:.0%} validation split "
              "of the ratings it was given, at the best epoch (whose weights the model keeps)")
    rows += [("training ratings", f"{history.n_train:,}", "history.json"),
             ("epochs run / best", f"{len(history.records)} / {history.best_epoch}",
              "history.json")]
    best = next((r for r in history.records if r.epoch == history.best_epoch), None)
    if best is None or best.val_rmse is None:
        return _frame([*rows, ("validation scores", "not recorded (fit without validation)",
                               "history.json")])
    rows += [("validation RMSE", f"{best.val_rmse:.4f}", source),
             ("validation MAE", f"{best.val_mae:.4f}", source)]
    return _frame(rows)


def _frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item", "value", "source"])
