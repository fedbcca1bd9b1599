"""`movierec demo`: the main job on ml-100k, end to end, in a couple of minutes."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from movierec.cli.render import console, show
from movierec.data import load_movielens, random_split
from movierec.evaluate import DampedBias, GlobalMean, mae, rmse


def run_demo(user: int, preset: str, out: Path) -> None:
    """Train on u1.base (or a seeded 80/20 split), compare, recommend, save."""
    from movierec import Recommender

    console.rule("[bold]movierec demo: ml-100k")
    data = load_movielens("ml-100k")
    console.print(f"data: {len(data.ratings):,} ratings from {data.source}")
    if data.has_canonical_folds:
        protocol, (train, test) = "canonical split u1.base / u1.test", data.canonical_folds("u")[0]
    else:
        protocol = "seeded random 80/20 split (canonical folds unavailable from this source)"
        train, test = random_split(data.ratings, test_fraction=0.2, seed=0)
    console.print(f"protocol: {protocol}: {len(train):,} train / {len(test):,} test ratings")

    rows = []
    for name, estimator in (("global mean", GlobalMean()), ("damped user+movie bias",
                                                              DampedBias())):
        start = time.perf_counter()
        estimator.fit(train)
        rows.append(_score(name, estimator.predict(test), test, time.perf_counter() - start))
    rec = Recommender(preset)
    start = time.perf_counter()
    rec.fit(train, movies=data.movies)
    rows.append(_score(f"{preset} (movierec)", rec.predict(test), test,
                       time.perf_counter() - start))
    show(pd.DataFrame(rows), title=f"held-out error on {len(test):,} test ratings")
    console.print(f"{preset}: {rec.history.ratings_per_second:,.0f} ratings/s "
                  f"(ratings x epochs / train seconds), best epoch {rec.history.best_epoch}")

    liked = train[train["user_id"] == user].sort_values(["rating", "timestamp"],
                                                        ascending=False).head(10)
    titles = data.movies.set_index("movie_id")["title"]
    recommended = rec.recommend(user, k=10)
    side_by_side = pd.DataFrame({
        "rated highest": [f"{t} ({r:g})" for t, r in
                          zip(titles.reindex(liked["movie_id"]), liked["rating"], strict=True)],
        "recommended (rated movies excluded)": [f"{t} ({s:.2f})" for t, s in
                                                zip(recommended["title"], recommended["score"],
                                                    strict=True)],
    }, index=range(1, 11)).reset_index(names="#")
    show(side_by_side, title=f"user {user}: what they rated highest vs. top 10 for them")
    rec.save(out)
    rec.history.plot(out / "loss_curve.png")
    console.print(f"model saved to {out} (loss curve: {out / 'loss_curve.png'}); try\n"
                  f"  movierec recommend {out} --user {user}\n"
                  f"  movierec similar {out} --movie \"Toy Story\"")


def _score(name: str, predicted, test: pd.DataFrame, seconds: float) -> dict:
    return {"model": name, "RMSE": rmse(predicted, test["rating"]),
            "MAE": mae(predicted, test["rating"]), "train s": seconds}
