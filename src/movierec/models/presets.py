"""Named presets: a model class, its defaults, training defaults, and the tutorial each follows.

Training defaults are plain `TrainConfig` keyword dicts (see
`movierec.training.TrainConfig.for_preset`) so that models never import the training layer.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import torch

from movierec.errors import ConfigError
from movierec.models.autoencoder import RowAutoencoder
from movierec.models.base import Scorer
from movierec.models.classifier import RatingClassifier
from movierec.models.denoising import DenoisingAutoencoder
from movierec.models.ease import EASE
from movierec.models.ensemble import BlendedEnsemble
from movierec.models.factorization import MatrixFactorization
from movierec.models.implicit_mf import ImplicitALS, ImplicitBPR
from movierec.models.item2vec import Item2Vec
from movierec.models.mlp import ConcatMLP
from movierec.models.neighbourhood import ItemNeighbourhood
from movierec.models.popularity import Popularity
from movierec.models.ranking_blend import RankingBlend
from movierec.models.retrieve_rank import RetrieveThenRank
from movierec.models.sequential import SASRec
from movierec.models.two_tower import TwoTower
from movierec.option_types import check_option_types

_SHAPE_ARGS = ("n_users", "n_movies", "rating_range")


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Preset:
    """A model class with the defaults (model and training) that reproduce one tutorial."""

    name: str
    model_class: type[Scorer]
    description: str
    model_defaults: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)
    # a rating preset the facade fits beside a ranker for the stars shown next to its lists
    rater: str | None = None

    @property
    def does(self) -> str:
        """"predicts ratings", "ranks" or "both" (a ranker with a rater for the stars)."""
        cls = self.model_class
        rates = cls.predicts_ratings or self.rater is not None
        return {(True, False): "predicts ratings", (False, True): "ranks",
                (True, True): "both"}[(rates, cls.ranks)]

    def option_names(self) -> list[str]:
        """Constructor options a caller may override (shape arguments excluded)."""
        params = inspect.signature(self.model_class.__init__).parameters
        return sorted(p for p in params if p not in ("self", *_SHAPE_ARGS))


# Fast factorisation training: Adagrad stepped after every rating by a compiled loop
# (training/mf_kernel.py), early stopping; lr and the presets' l2 chosen on validation
# carves of the ml-100k u1..u5 training parts. batch_size serves the batched loop that
# another optimizer (or an accelerator) trains with.
_PER_RATING_MF_TRAINING = {"epochs": 20, "batch_size": 4096, "optimizer": "per_rating_adagrad",
                           "lr_schedule": "none", "patience": 4, "num_threads": 1}

# Full-batch autoencoders: one L-BFGS step (5 iterations) per epoch, the best validation
# epoch kept (AutoRec and Sparse-FC papers' optimiser, epochs from their validation curves).
# Patience 10: L-BFGS can sit on a plateau for 5-6 epochs and then improve again (seen on
# the u1 validation split: stopped at 0.917, recovered to 0.896).
_AUTOENCODER_TRAINING = {"optimizer": "lbfgs", "lr": 1.0, "lbfgs_iterations": 5, "epochs": 25,
                         "patience": 10, "num_threads": 1}
# The papers' settings, kept after `movierec tune --model autorec --protocol u1 --trials 6`
# (validation split of u1.base only) found nothing better; see docs/benchmarks.md.
_AUTOREC = {"hidden": (500,), "kernel_dim": 0, "l2": 100.0, "kernel_l2": 0.0}
_KERNEL_NET = {"hidden": (500, 500), "kernel_dim": 5, "l2": 20.0, "kernel_l2": 0.006}

PRESETS: Mapping[str, Preset] = _frozen({p.name: p for p in [
    Preset("dot", MatrixFactorization,
           "Dot-product MF with l2 on the embeddings, no biases (Keras 'collaborative filtering "
           "with embeddings' tutorials).",
           _frozen({"dim": 64, "biases": False, "global_bias": False, "sigmoid_range": False,
                    "l2": 0.1, "init_std": 0.1}),
           _frozen({**_PER_RATING_MF_TRAINING, "lr": 0.07})),
    Preset("biased-mf", MatrixFactorization,
           "Dot + user/movie biases + global bias, sigmoid range (fastai collab_learner "
           "y_range); the default model.",
           _frozen({"dim": 32, "biases": True, "global_bias": True, "sigmoid_range": True,
                    "range_margin": 0.5, "l2": 0.07, "init_std": 0.01}),
           _frozen({**_PER_RATING_MF_TRAINING, "lr": 0.03})),
    Preset("biased-mf-bce", MatrixFactorization,
           "Keras 'RecommenderNet' (keras-io collaborative_filtering_movielens): embeddings + "
           "biases, sigmoid, binary cross-entropy on min-max scaled ratings. The tutorial's "
           "tensordot(user, movie, 2) sums over the whole batch (keras-io issue #397); this "
           "preset uses the intended per-row dot.",
           _frozen({"dim": 50, "biases": True, "global_bias": False, "loss": "bce",
                    "l2": 1e-3, "init_std": 0.05}),
           _frozen({"epochs": 10, "batch_size": 1024, "lr": 0.02, "optimizer": "adam",
                    "adam_eps": 1e-4, "lr_schedule": "onecycle", "patience": 3,
                    "num_threads": 1})),
    Preset("mlp", ConcatMLP,
           "Concatenated embeddings -> Dense 128 -> Dense 64 with dropout -> sigmoid range.",
           _frozen({"dim": 64, "hidden": (128, 64), "dropout": 0.2, "embedding_dropout": 0.05}),
           _frozen({"epochs": 15, "batch_size": 1024, "lr": 2e-3, "optimizer": "adamw",
                    "weight_decay": 0.05, "lr_schedule": "onecycle", "patience": 3})),
    Preset("mlp-tiny", ConcatMLP,
           "Keras tutorial: embedding dim 2 + concat + Dense(8) relu + Dense(1), MSE (~0.94).",
           _frozen({"dim": 2, "hidden": (8,), "dropout": 0.0, "sigmoid_range": False}),
           _frozen({"epochs": 10, "batch_size": 256, "lr": 3e-3, "optimizer": "adam",
                    "lr_schedule": "none", "patience": 2})),
    Preset("mlp-dropout", ConcatMLP,
           "fastai/Keras tutorial: embeddings -> concat -> Dropout(0.05) -> Dense(10) relu -> "
           "Dropout(0.5) -> Dense(1) -> sigmoid scaled to the rating range.",
           _frozen({"dim": 50, "hidden": (10,), "dropout": 0.5, "embedding_dropout": 0.05}),
           _frozen({"epochs": 10, "batch_size": 512, "lr": 3e-3, "optimizer": "adamw",
                    "weight_decay": 0.01, "lr_schedule": "onecycle", "patience": 3})),
    Preset("classifier", RatingClassifier,
           "Rating classes (the scale's steps: 1..5, or 0.5..5 in half stars): embeddings -> "
           "3 x (Dense 128, batch norm, relu, dropout) -> softmax; predicted rating = "
           "expected value (Keras classification tutorials).",
           _frozen({"dim": 64, "hidden": (128, 128, 128), "dropout": 0.3}),
           _frozen({"epochs": 10, "batch_size": 1024, "lr": 2e-3, "optimizer": "adamw",
                    "weight_decay": 0.05, "lr_schedule": "onecycle", "patience": 3})),
    Preset("ranking", ConcatMLP,
           "TensorFlow Recommenders ranking tutorial: 32-d user and movie embeddings, concat "
           "-> Dense 256 relu -> Dense 64 relu -> Dense 1, MSE.",
           _frozen({"dim": 32, "hidden": (256, 64), "dropout": 0.0, "sigmoid_range": False}),
           _frozen({"epochs": 10, "batch_size": 2048, "lr": 0.05, "optimizer": "adagrad",
                    "lr_schedule": "none", "patience": 3})),
    Preset("autorec", RowAutoencoder,
           "I-AutoRec (Sedhain et al. 2015): each movie's ratings over users -> 500 sigmoid -> "
           "all users; masked squared error + l2 100, full-batch L-BFGS.",
           _frozen({"by": "movie", **_AUTOREC}), _frozen(_AUTOENCODER_TRAINING)),
    Preset("autorec-user", RowAutoencoder,
           "U-AutoRec: autorec over each user's ratings of all movies (weaker, a diverse "
           "ensemble member).",
           _frozen({"by": "user", **_AUTOREC}), _frozen(_AUTOENCODER_TRAINING)),
    Preset("kernel-net", RowAutoencoder,
           "Sparse FC kernel net (Muller et al. 2018; GLocal-K's local part): item autoencoder, "
           "2 x 500 sigmoid layers whose weights are gated by a learned 5-d kernel.",
           _frozen({"by": "movie", **_KERNEL_NET}), _frozen(_AUTOENCODER_TRAINING)),
    Preset("kernel-net-user", RowAutoencoder,
           "kernel-net over each user's ratings of all movies (a diverse ensemble member).",
           _frozen({"by": "user", **_KERNEL_NET}), _frozen(_AUTOENCODER_TRAINING)),
    Preset("item-knn", ItemNeighbourhood,
           "KNNBaseline (Koren 2010; Surprise's KNNBaseline): damped baselines plus the "
           "similarity-weighted residuals of the 40 most similar movies the user rated, "
           "among each movie's 1000 nearest (shrunk Pearson-baseline similarity). Closed "
           "form, not neural: an ensemble member.",
           # `movierec tune --model item-knn --protocol u1 --trials 30` (validation split of
           # u1.base only): 0.9228 vs 0.9331 for Surprise's defaults (shrink 100, reg 10/25)
           _frozen({"k": 40, "neighbours": 1000, "shrink": 447.0, "user_reg": 41.5,
                    "movie_reg": 1.05}),
           _frozen({"num_threads": 1})),
    Preset("two-tower", TwoTower,
           "Two-tower retrieval (TensorFlow Recommenders retrieval tutorial, made stronger): "
           "user tower (id, demographics, mean of rated-movie embeddings) and movie tower (id, "
           "genres, year), unit vectors, in-batch softmax with logQ correction, temperature, "
           "mixed uniform negatives. Scores rank movies; they are not ratings.",
           _frozen({"dim": 64, "hidden": (128,), "out_dim": 64, "temperature": 0.05,
                    "history": True, "mixed_negatives": 256}),
           _frozen({"epochs": 10, "batch_size": 1024, "lr": 3e-3, "optimizer": "adam",
                    "lr_schedule": "onecycle", "num_threads": 1})),
    Preset("best", BlendedEnsemble,
           "Blend of 3 kernel nets, an AutoRec, a user AutoRec, biased MF and item-kNN, fitted "
           "side by side (one process per core): weights vary with the user's and movie's rating "
           "counts, fitted (ridge, penalty by 5-fold CV) on the validation split only; then "
           "every member trains 6 more epochs on all ratings (item-kNN refits in closed form). "
           "movierec's most accurate rating predictor.",
           _frozen({"members": ("kernel-net", "kernel-net", "kernel-net", "autorec",
                                "autorec-user", "biased-mf", "item-knn"),
                    "blend_l2": None, "blend_features": True, "refit": True,
                    "refit_epochs": 6}),
           _frozen({"num_threads": 1})),
    # --- rankers: scores order movies, they are not ratings ----------------------------
    Preset("popularity", Popularity,
           "Ranks: the movies most users rated (the baseline every ranker must beat).",
           _frozen({}), _frozen({})),
    Preset("ease", EASE,
           "Ranks: EASE (Steck 2019), closed-form item-item weights over 0/1 histories, "
           "l2 500 (chosen on validation splits by benchmarks/topk.py).",
           _frozen({"l2": 500.0}), _frozen({})),
    Preset("ease-window", EASE,
           "Ranks: EASE over co-ratings made close together in time: pairs at most `window` "
           "ratings apart in a user's time order, nearer ones weighted more; needs "
           "timestamps. Window 19, l2 250 (chosen on validation splits by benchmarks/topk.py).",
           # `topk.py --validation-only --models ease-window`: the best sum of the grid's
           # validation NDCG@10 over ml-100k (0.1881) and ml-latest-small (0.1646); its gain
           # over EASE shrinks as the validation carve gets smaller (docs/benchmarks.md)
           _frozen({"l2": 250.0, "window": 19}), _frozen({})),
    Preset("item-ridge", EASE,
           "Ranks: item-item ridge regression over 0/1 histories, B = I - l2 (X'X + l2 I)^-1 "
           "(EASE without its zero-diagonal constraint, so popular movies are not lifted), "
           "l2 500 (chosen on validation carves; on par with EASE).",
           # l2 and the constraint chosen on 5% validation carves 43-45 of both data sets
           # (mean NDCG@10 0.1457 vs EASE's best 0.1432); on fresh carves 46-48 a tie with
           # EASE l2 250 (0.1392 both; docs/benchmarks.md)
           _frozen({"l2": 500.0, "zero_diagonal": False}), _frozen({})),
    Preset("ranking-blend", RankingBlend,
           "Ranks: a blend of ranker presets (`members`), each user's scores standardised, "
           "weights chosen by NDCG@10 on a held-out 10% of the training ratings, then every "
           "member refitted on all of them.",
           _frozen({"members": ("ease", "popularity"), "weights": None}), _frozen({})),
    Preset("retrieve-rank", RetrieveThenRank,
           "Ranks: retrieve then rank: the retriever's (two-tower) 100 best unseen movies per "
           "user, ordered by the ranker (EASE); movies outside them are not listed.",
           _frozen({"members": ("two-tower", "ease"), "candidates": 100}), _frozen({})),
    Preset("sasrec", SASRec,
           "Ranks: SASRec (Kang & McAuley 2018), 2 causal self-attention blocks over each "
           "user's latest 50 ratings in time order, full-softmax next-movie cross-entropy "
           "(settings from manual searches on ml-100k leave-last-out validation splits).",
           _frozen({"max_len": 50, "dim": 64, "layers": 2, "heads": 1, "dropout": 0.2}),
           _frozen({"epochs": 30, "batch_size": 64, "lr": 3e-3, "optimizer": "adamw",
                    "weight_decay": 0.0, "num_threads": 1})),
    Preset("dae", DenoisingAutoencoder,
           "Ranks: denoising item autoencoder, DLAE closed-form item-item weights (dropout "
           "0.5, l2 200) plus a 64-unit tanh path, 40 epochs of denoising (settings chosen "
           "on ml-100k validation splits by benchmarks/topk.py).",
           _frozen({"dropout": 0.5, "l2": 200.0, "hidden": 64, "item_item_lr": 1e-5}),
           _frozen({"epochs": 40, "batch_size": 128, "lr": 1e-3, "optimizer": "adam",
                    "num_threads": 1})),
    Preset("item2vec", Item2Vec,
           "Ranks: item2vec (Barkan & Koenigstein 2016), 64-d movie vectors from full-softmax "
           "skip-gram over movies rated within 5 of each other in a user's time order; needs "
           "timestamps.",
           _frozen({"window": 5, "dim": 64}),
           _frozen({"epochs": 20, "batch_size": 512, "lr": 1e-2, "optimizer": "adam",
                    "num_threads": 1})),
    Preset("ials", ImplicitALS,
           "Ranks: iALS (Hu, Koren & Volinsky 2008; the `implicit` library), 128 factors, l2 "
           "10, confidence 1, 15 sweeps (chosen on the ml-100k random validation split by "
           "benchmarks/topk.py); new users solved exactly.",
           _frozen({"factors": 128, "regularization": 10.0, "alpha": 1.0, "iterations": 15}),
           _frozen({"num_threads": 1})),
    Preset("bpr", ImplicitBPR,
           "Ranks: BPR-MF (Rendle et al. 2009; the `implicit` library), 64 factors + a movie "
           "bias, learning rate 0.01 (chosen on validation splits by benchmarks/topk.py), 100 "
           "epochs; each user is the mean of their movies' factors.",
           _frozen({"factors": 64, "learning_rate": 0.01, "regularization": 0.01,
                    "iterations": 100}),
           _frozen({"num_threads": 1})),
    Preset("top-k", RankingBlend,
           "Ranks, with stars from biased-mf: movierec's best lists. A blend of dae, item2vec "
           "and EASE, each user's scores standardised, weights chosen by NDCG@10 on a held-out "
           "10% of the training ratings, then every member refitted on all of them; the stars "
           "beside each movie come from biased-mf.",
           # members chosen on validation only (docs/benchmarks.md): dae as its preset,
           # item2vec window 3, EASE l2 250. Against dae + ease-window, the best mean NDCG@10
           # over three 5% validation carves of both data sets (0.1454 vs 0.1450; 20% carves
           # favoured ease-window but overstate time-adjacency models)
           _frozen({"members": ("dae", "item2vec", "ease"),
                    "member_options": ({}, {"window": 3}, {"l2": 250.0}),
                    "weights": None}), _frozen({}),
           rater="biased-mf"),
    # @rankers: helpers add presets above this line
]})


# movierec's best lists (with stars from a rater): what `Recommender()`, `movierec train`,
# `movierec demo` and the service use unless told otherwise.
DEFAULT_PRESET = "top-k"


def get_preset(name: str) -> Preset:
    """The preset called `name`, or ConfigError listing the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown model preset {name!r}; valid presets: "
                          f"{', '.join(sorted(PRESETS))}") from None


def build_model(preset: str, n_users: int, n_movies: int,
                rating_range: tuple[float, float] = (1.0, 5.0), *, seed: int | None = None,
                **options: Any) -> Scorer:
    """Build the preset's model, with `options` overriding its defaults.

    `seed` seeds the weight initialisation (torch's global generator) when given.
    """
    spec = get_preset(preset)
    check_preset_options(preset, options)
    if seed is not None:
        torch.manual_seed(seed)
    model = spec.model_class(n_users, n_movies, rating_range, **{**spec.model_defaults, **options})
    model.preset = preset
    return model


def check_preset_options(preset: str, options: Mapping[str, Any]) -> None:
    """ConfigError for an option the preset does not have, or of the wrong kind."""
    spec = get_preset(preset)
    valid = spec.option_names()
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} for preset {preset!r}; "
                          f"valid options: {', '.join(valid)}")
    check_option_types(spec.model_class.__init__, options, f"preset {preset!r}")


def model_from_config(config: Mapping[str, Any]) -> Scorer:
    """Rebuild the architecture `Scorer.config()` described (weights load separately)."""
    kwargs = dict(config)
    preset = kwargs.pop("preset", None)
    spec = get_preset(str(preset))
    missing = [name for name in _SHAPE_ARGS if name not in kwargs]
    if missing:
        raise ConfigError(f"model config lacks {', '.join(missing)}; it must come from "
                          "Scorer.config()")
    model = build_model(spec.name, kwargs.pop("n_users"), kwargs.pop("n_movies"),
                        tuple(kwargs.pop("rating_range")), **kwargs)
    return model
