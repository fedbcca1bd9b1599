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
# # The TensorFlow Recommenders walkthrough, in movierec
#
# The tutorial (`shared/tutorials/002-tensorflow-recommenders.txt`) builds the two stages of
# a real recommender on ml-100k, shuffled with seed 42 and split 80/20:
#
# * **retrieval**: a two-tower model (32-number user and movie embeddings) trained with an
#   in-batch softmax, scored by `FactorizedTopK`: how often the held-out movie is among the
#   user's top k of the whole catalogue (**top-100 about 0.23** after 3 epochs); then a
#   brute-force index, export and reload, and an approximate (ScaNN) index;
# * **ranking**: user and movie embeddings concatenated into Dense 256 -> 64 -> 1, trained
#   on squared error (Adagrad 0.1, 3 epochs), used to order three films for user 42, then
#   exported for serving.
#
# Its introduction also names *targeting*: the users most likely to want a given movie.
# movierec's presets: `two-tower` (retrieval) and `ranking` (the 256-64-1 network). Run from
# `examples/`; data from `MOVIEREC_DATA` (default `../../shared/data`).

# %%
# %matplotlib inline
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from movierec import Recommender
from movierec.data import load_movielens, random_split
from movierec.evaluate import DampedBias, GlobalMean, rmse
from movierec.export import export_graphs

torch.set_num_threads(1)  # small models on a shared 2-core machine: one thread is fastest

DATA = Path(os.environ.get("MOVIEREC_DATA", "../../shared/data"))
if not (DATA / "ml-100k" / "u.data").is_file():
    raise SystemExit(f"ml-100k is not in {DATA.resolve()}; set MOVIEREC_DATA to the folder "
                     "that holds ml-100k/ and run again.")

# %% [markdown]
# ## Data and split
#
# The tutorial keeps the user id and movie title of each rating and shuffles with seed 42
# before taking 80,000 / 20,000. movierec keeps ids (titles come from the movies table) and
# `random_split(seed=42)` takes the same sizes (its own random 20%).

# %%
data = load_movielens("ml-100k", path=DATA / "ml-100k", progress=False)
train, test = random_split(data.ratings, test_fraction=0.2, seed=42)
print(f"train {len(train):,}, test {len(test):,}; {data.ratings['user_id'].nunique()} users, "
      f"{len(data.movies):,} movies")

# %% [markdown]
# ## Retrieval: the tutorial's two towers
#
# The tutorial's towers are bare 32-number id embeddings. movierec's `two-tower` preset with
# its side inputs switched off is the nearest model: ids only, 32 numbers, in-batch
# negatives only. Three differences remain, all in movierec's model itself: each tower ends
# in a linear layer, the vectors are normalised with a temperature, and the in-batch softmax
# corrects for popular movies appearing as negatives more often. Training: the tutorial's 3
# epochs, but in batches of 1,024 with Adam rather than 8,192 with Adagrad (an 8,192 x
# 8,192 in-batch softmax costs about 18 s an epoch on this CPU).

# %%
TUTORIAL_TOWERS = {"dim": 32, "out_dim": 32, "hidden": (), "history": False,
                   "mixed_negatives": 0, "epochs": 3}
towers = Recommender("two-tower", progress=False, **TUTORIAL_TOWERS)
towers.fit(train, movies=data.movies)  # the movies table gives titles; the towers ignore it
retrieval = pd.DataFrame({"tutorial-shaped two-tower": towers.factorized_top_k(test)})
retrieval.T.round(4)

# %% [markdown]
# ## Retrieval: movierec's towers with side features
#
# movierec's `two-tower` preset also reads each movie's genres and year and each user's
# demographics, and, fully, each user's rated movies and 256 extra random negatives per
# batch; trained 10 epochs it reaches a top-100 accuracy of 0.404 on this protocol
# (`docs/benchmarks.md`; 105 s of training there). To keep this notebook fast it runs here
# with the side features only (no history, no extra negatives) for the same 3 epochs. That
# choice was made on a validation split carved from the 80% (top-100 there: 0.360 for this
# model, 0.356 for the full preset after 2 epochs, 0.295 for the tutorial-shaped towers).

# %%
featured = Recommender("two-tower", progress=False, history=False, mixed_negatives=0,
                       epochs=3)
featured.fit(train, movies=data.movies, users=data.users)
retrieval["two-tower + side features"] = featured.factorized_top_k(test)
retrieval["tutorial (TFRS)"] = np.nan
retrieval.loc["factorized_top_100", "tutorial (TFRS)"] = 0.23
retrieval.T.round(4)

# %%
ks = [1, 5, 10, 50, 100]
fig, ax = plt.subplots(figsize=(6, 4))
for column in retrieval.columns[:2]:
    ax.plot(ks, [retrieval.loc[f"factorized_top_{k}", column] for k in ks], marker="o",
            label=column)
ax.scatter([100], [0.23], color="black", marker="x", s=80, zorder=3, label="tutorial, top-100")
ax.set(xscale="log", xlabel="k", ylabel="factorized top-k accuracy", title="ml-100k, 80/20 test")
ax.legend()
plt.show()

# %% [markdown]
# ## Brute-force index, export and reload
#
# `build_index("exact")` scores every movie for a user with one matrix product over the
# cached movie vectors, like TFRS's `BruteForce` layer. `recommend` leaves out the movies the
# user rated in training (TFRS's index does not). The index is saved with the model:
# `save` and `Recommender.load` play the part of the SavedModel round trip.

# %%
towers.build_index("exact")
print("user 46:", towers.recommend(46, k=3)["title"].tolist())
with tempfile.TemporaryDirectory() as folder:
    towers.save(Path(folder) / "two-tower")
    reloaded = Recommender.load(Path(folder) / "two-tower")
same_lists = reloaded.recommend(42, k=10).equals(towers.recommend(42, k=10))
print("user 42 after reload:", reloaded.recommend(42, k=3)["title"].tolist(),
      "| same top 10 as before saving:", same_lists)

# %% [markdown]
# ## An approximate index
#
# The tutorial swaps in ScaNN; movierec's approximate index is faiss HNSW. A catalogue of
# 1,682 movies does not need one, but it shows how close its lists stay to the exact ones.

# %%
users = np.sort(test["user_id"].unique())
exact = towers.recommend_many(users, k=10)
towers.build_index("hnsw", ef_search=128)
approximate = pd.concat([towers.recommend(int(u), k=10).assign(user_id=u) for u in users[:200]])
overlap = (approximate.merge(exact, on=["user_id", "movie_id"]).shape[0]
           / len(approximate))
print(f"HNSW top-10 recall against exact, {min(200, len(users))} users: {overlap:.3f}")
print("user 42:", towers.recommend(42, k=3)["title"].tolist())

# %% [markdown]
# ## Ranking: Dense 256 -> 64 -> 1
#
# The `ranking` preset is the tutorial's network, trained here as the tutorial trains it:
# Adagrad at 0.1, batches of 8,192, 3 epochs. The text of the tutorial prints no ranking
# figure, so the test RMSE is shown beside two baselines and movierec's `biased-mf` on the
# same split. On ids alone the 256-64-1 network learns little beyond each user's and
# movie's offset: it does not beat the damped-bias baseline (with the preset's own training,
# 10 epochs of 2,048, it still does not: 0.944 against 0.938 in a trial run); biased matrix
# factorisation does.

# %%
ranker = Recommender("ranking", progress=False, epochs=3, batch_size=8192, lr=0.1,
                     patience=None).fit(train, movies=data.movies)
truth = test["rating"].to_numpy()
ranking = pd.Series({
    "ranking (256-64-1), the tutorial's training": rmse(ranker.predict(test), truth),
    "biased-mf": rmse(Recommender("biased-mf", progress=False).fit(train).predict(test), truth),
    "damped-bias baseline": rmse(DampedBias().fit(train).predict(test), truth),
    "global-mean baseline": rmse(GlobalMean().fit(train).predict(test), truth),
}, name="test RMSE")
ranking.round(4)

# %% [markdown]
# The tutorial's three films for user 42, ordered by predicted rating:

# %%
films = pd.DataFrame({"user_id": 42, "movie_id": [211, 97, 568]})  # M*A*S*H, Dances with
films["title"] = data.movies.set_index("movie_id").loc[films["movie_id"], "title"].to_numpy()
films["predicted"] = ranker.predict(films)  # Wolves, Speed: ids from u.item
films.sort_values("predicted", ascending=False)

# %% [markdown]
# ## Export for serving
#
# The tutorial exports a SavedModel and converts it to TensorFlow Lite. movierec writes
# TorchScript (or ONNX: `movierec export runs/model --format onnx`): the scoring network and
# the user and movie towers, each checked against the model on probe batches before it is
# written, with the id maps beside them.

# %%
with tempfile.TemporaryDirectory() as folder:
    manifest = export_graphs(ranker, Path(folder), "torchscript")
    scoring = torch.jit.load(Path(folder) / "scoring.pt")
    users = torch.from_numpy(ranker.user_ids.to_index(films["user_id"].to_numpy()))
    movies = torch.from_numpy(ranker.movie_ids.to_index(films["movie_id"].to_numpy()))
    with torch.no_grad():
        exported = scoring(users, movies).numpy()
print("files:", sorted(g["file"] for g in manifest["graphs"].values()))
print("exported graph == Recommender.predict:",
      np.allclose(exported, films["predicted"], atol=1e-5))

# %% [markdown]
# ## Targeting
#
# The other direction: the users who would rate a movie highest among those who have not
# rated it (here Speed).

# %%
ranker.users_for_movie(568, k=5)

# %% [markdown]
# ## Checks
#
# The tutorial-shaped towers must reach the tutorial's top-100 accuracy of about 0.23
# (allowing 0.02 below it, as its figure has two digits and its split is another random
# 20%); the towers with side features must do better; the reloaded model must give the
# same lists; HNSW must find at least 90% of the exact top 10; the exported graph must
# reproduce the model; the ranking network must beat the global mean by at least 0.1 RMSE,
# and `biased-mf` the damped-bias baseline.

# %%
tutorial_shaped = retrieval.loc["factorized_top_100", "tutorial-shaped two-tower"]
best = retrieval.loc["factorized_top_100", "two-tower + side features"]
assert tutorial_shaped >= 0.23 - 0.02, retrieval
assert best > tutorial_shaped, retrieval
assert same_lists and overlap >= 0.9, overlap
assert np.allclose(exported, films["predicted"], atol=1e-5)
assert ranking.iloc[0] <= ranking["global-mean baseline"] - 0.1, ranking
assert ranking["biased-mf"] < ranking["damped-bias baseline"], ranking
print(f"top-100: tutorial ~0.23, tutorial-shaped {tutorial_shaped:.4f}, "
      f"with side features {best:.4f}")
