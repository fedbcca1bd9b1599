# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The Keras movie-recommender tutorial (V1 to V4), in movierec
#
# The tutorial (`shared/tutorials/001-keras-movie-recommender.txt`) works on ml-latest-small
# (the 2018 release: 100,836 ratings) split 90/10 at random, and builds four models with 50
# factors: **V1** a plain dot product of user and movie embeddings (it overfits), **V2** the
# dot product plus user and movie biases through a sigmoid scaled to the rating range
# (validation MSE "~0.76"), **V3** concatenated embeddings through dropout, Dense(10) and
# dropout to the same scaled sigmoid ("pretty close" to V2), and **V4** a subclassed model
# with biases trained on binary cross-entropy. It ends with one user's favourite movies
# beside their top 10.
#
# movierec has each of these as a preset: `dot`, `biased-mf`, `mlp-dropout` and
# `biased-mf-bce`. Run from `examples/`; data from `MOVIEREC_DATA` (default
# `../../shared/data`).

# %%
# %matplotlib inline
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch

from movierec import Recommender
from movierec.analysis import top_crosstab
from movierec.data import load_movielens, random_split
from movierec.evaluate import DampedBias, mae, rmse

torch.set_num_threads(1)  # small models on a shared 2-core machine: one thread is fastest

DATA = Path(os.environ.get("MOVIEREC_DATA", "../../shared/data"))
if not (DATA / "ml-latest-small" / "ratings.csv").is_file():
    raise SystemExit(f"ml-latest-small is not in {DATA.resolve()}; set MOVIEREC_DATA to the "
                     "folder that holds ml-latest-small/ and run again.")

# %% [markdown]
# ## The data, and the corner the tutorial looks at
#
# The 15 most active users against the 15 most rated movies (NaN: not rated).

# %%
data = load_movielens("ml-latest-small", path=DATA / "ml-latest-small", progress=False)
ratings, titles = data.ratings, data.movies.set_index("movie_id")["title"]
corner = top_crosstab(ratings, n_users=15, n_movies=15)
corner.columns = [titles[m][:18] for m in corner.columns]
corner

# %% [markdown]
# ## Encoding and the split
#
# The tutorial re-numbers users and movies 0..n-1 with a `LabelEncoder`; movierec does that
# inside `fit` and speaks raw ids everywhere else. Its split is scikit-learn's
# `train_test_split(test_size=0.1, random_state=42)`; movierec's `random_split` draws the same
# sizes (a different random 10%, so the figures can move by a little).

# %%
train, test = random_split(ratings, test_fraction=0.1, seed=42)
print(f"{ratings['user_id'].nunique()} users, {ratings['movie_id'].nunique()} movies, "
      f"ratings {ratings['rating'].min()}..{ratings['rating'].max()}")
print(f"train {len(train):,}, test {len(test):,}  (the tutorial: 90,752 and 10,084)")

# %% [markdown]
# ## V1 to V4
#
# Each model is fitted on the 90% and scored once on the 10%; the tutorial calls its 10% the
# validation set and trains a fixed number of epochs. movierec's presets keep the weights of
# their best epoch on a 5% validation split carved from the 90%, so the 10% only scores.
# The numbers of factors are the tutorial's 50; each preset trains as it always does, except
# that `mlp-dropout` stops after 5 epochs to keep this notebook fast (validation RMSE 0.848
# on the carved split, against 0.850 when left to stop early by itself).
# A damped-bias baseline (global mean + regularised user and movie offsets, nothing
# learned by gradient) shows what "learning something" means on this split.

# %%
VERSIONS = {
    "V1 dot": ("dot", {"dim": 50}),
    "V2 biases + sigmoid": ("biased-mf", {"dim": 50}),
    "V3 concat + dropout": ("mlp-dropout", {"dim": 50, "epochs": 5}),
    "V4 biases, cross-entropy": ("biased-mf-bce", {"dim": 50}),
}


def held_out_scores(predicted) -> dict[str, float]:
    error = rmse(predicted, test["rating"].to_numpy())
    return {"test MSE": error**2, "RMSE": error, "MAE": mae(predicted, test["rating"].to_numpy())}


models, rows = {}, {}
for name, (preset, options) in VERSIONS.items():
    models[name] = Recommender(preset, progress=False, num_threads=1, **options)
    models[name].fit(train, movies=data.movies)  # titles, for the lists at the end
    rows[name] = {"preset": preset, **held_out_scores(models[name].predict(test)),
                  "train s": models[name].history.train_seconds}
rows["damped-bias baseline"] = {"preset": "(no training)",
                                **held_out_scores(DampedBias().fit(train).predict(test))}
scores = pd.DataFrame(rows).T
scores["tutorial"] = ["overfits (plot only)", "~0.76", "close to V2", "plot only", ""]
scores

# %% [markdown]
# The tutorial's curves: training and validation loss per epoch. Below, each model's
# training loss (squared error for V1-V3, cross-entropy for V4, so not on one scale) and
# the RMSE on movierec's carved validation split, the same scale for all four.

# %%
fig, (loss_ax, val_ax) = plt.subplots(1, 2, figsize=(13, 4))
for name, rec in models.items():
    frame = rec.history.to_frame()
    loss_ax.plot(frame["epoch"], frame["train_loss"], marker="o", label=name)
    val_ax.plot(frame["epoch"], frame["val_rmse"], marker="o", label=name)
loss_ax.set(title="training loss", xlabel="epoch", yscale="log")
val_ax.set(title="validation RMSE (carved 5%)", xlabel="epoch")
val_ax.legend()
plt.show()

# %% [markdown]
# ## Inference: one user's favourites beside their top 10
#
# The tutorial picks a user at random and prints the movies they rated highest, then the
# ten V4 ranks first among the movies they have not rated. `rated_vs_recommended` is that
# view (the favourites come from the ratings passed in; the top 10 excludes every movie
# the user rated in training).

# %%
v4 = models["V4 biases, cross-entropy"]
user = int(train["user_id"].sample(1, random_state=42).iloc[0])
side_by_side = v4.rated_vs_recommended(user, train, k=10)
print(f"user {user}")
side_by_side

# %% [markdown]
# ## Checks
#
# V2 must reach the tutorial's "~0.76" validation MSE, allowing 0.02 for the different
# random 10% (the tutorial gives no decimals beyond that); so must V3 (the tutorial: "pretty
# close" to V2) and V4; biases must help (V2 below V1, the tutorial's lesson); V2 and V4 must
# beat the damped-bias baseline; the top 10 must hold ten movies the user has not rated.

# %%
mse = scores["test MSE"]
for name in ("V2 biases + sigmoid", "V3 concat + dropout", "V4 biases, cross-entropy"):
    assert mse[name] <= 0.76 + 0.02, mse
assert mse["V2 biases + sigmoid"] < mse["V1 dot"], mse
for name in ("V2 biases + sigmoid", "V4 biases, cross-entropy"):
    assert mse[name] < mse["damped-bias baseline"], mse
rated = set(train.loc[train["user_id"] == user, "movie_id"])
assert side_by_side["movie_id"].notna().sum() == 10
assert not rated & set(side_by_side["movie_id"].dropna())
print(f"V2 test MSE {mse['V2 biases + sigmoid']:.4f} (tutorial ~0.76)")
