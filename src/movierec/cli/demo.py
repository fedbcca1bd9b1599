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
    from movierec.recommender.artifacts import check_save_target

    check_save_target(out)
    console.rule("[bold]movierec demo: ml-100k")
    data = load_movielens("ml-100k")
    console.print(f"data: {len(data.ratings):,} ratings from {data.source}")
    if data.has_canonical_folds:
        protocol, (train, test) = "canonical split u1.base / u1.test", data.canonical_folds("u")[0]
    else:
        protocol = "seeded random 80/20 split (canonical folds unavailable from this source)"
        train, test = random_split(data.ratings, test_fraction=0.2, seed=0)
    console.print(f"protocol: {protocol}: {len(train):,} train / {len(test):,} test ratings")

    rec = Recommender(preset)
    start = time.perf_counter()
    rec.fit(train, movies=data.movies)
    fit_seconds = time.perf_counter() - start
    roles = rec.roles()
    console.print(f"{preset}: lists from {roles['ranker']}, stars from {roles['rater']} "
                  f"({fit_seconds:.0f}s to fit both)")

    rows = []
    for name, estimator in (("global mean", GlobalMean()), ("damped user+movie bias",
                                                              DampedBias())):
        estimator.fit(train)
        rows.append(_errors(name, estimator.predict(test), test))
    if rec.predicts_ratings:
        rows.append(_errors(f"{roles['rater']} (movierec, the stars)", rec.predict(test), test))
    show(pd.DataFrame(rows), title=f"predicted stars: held-out error on {len(test):,} ratings")

    lists = [("popularity (everyone gets the most rated movies)",
              Recommender("popularity", progress=False).fit(train)),
             (f"{preset} (movierec, the lists)", rec)]
    if rec.rater is not None:
        lists.insert(1, (f"{rec.rater.preset} ranked by predicted stars", rec.rater))
    show(pd.DataFrame([_list_quality(name, model, test) for name, model in lists]),
         title="top-10 lists over the whole catalogue, rated movies excluded (held-out)")

    liked = train[train["user_id"] == user].sort_values(["rating", "timestamp"],
                                                        ascending=False).head(10)
    titles = data.movies.set_index("movie_id")["title"]
    recommended = rec.recommend(user, k=10)
    side_by_side = pd.DataFrame({
        "rated highest": [f"{t} ({r:g})" for t, r in
                          zip(titles.reindex(liked["movie_id"]), liked["rating"], strict=True)],
        "recommended (rated movies excluded)": [
            f"{t} ({stars:.1f} stars)" if rec.predicts_ratings else t
            for t, stars in zip(recommended["title"], _stars(rec, user, recommended),
                                strict=True)],
    }, index=range(1, 11)).reset_index(names="#")
    show(side_by_side, title=f"user {user}: what they rated highest vs. top 10 for them")
    rec.save(out)
    console.print(f"model saved to {out}; try\n"
                  f"  movierec recommend {out} --user {user}\n"
                  f"  movierec similar {out} --movie \"Toy Story\"")


def _errors(name: str, predicted, test: pd.DataFrame) -> dict:
    return {"model": name, "RMSE": rmse(predicted, test["rating"]),
            "MAE": mae(predicted, test["rating"])}


def _list_quality(name: str, rec, test: pd.DataFrame) -> dict:  # type: ignore[no-untyped-def]
    found = rec.ranking_metrics(test, ks=(10,))
    return {"lists from": name, "NDCG@10": found["ndcg@10"], "recall@10": found["recall@10"],
            "hit rate@10": found["hit_rate@10"]}


def _stars(rec, user: int, movies: pd.DataFrame) -> list[float]:  # type: ignore[no-untyped-def]
    """The rater's predicted stars for the listed movies (NaN without a rater)."""
    if not rec.predicts_ratings:
        return [float("nan")] * len(movies)
    return list(rec.predict(pd.DataFrame({"user_id": user, "movie_id": movies["movie_id"]})))
