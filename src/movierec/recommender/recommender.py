"""The facade people use: raw ids in and out, one object to fit, predict, recommend and save."""

from __future__ import annotations

import dataclasses
import html
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import torch

from movierec.data import (
    IdMap,
    SeenMovies,
    movielens_scale,
    raw_ids,
    top_k_unseen,
    validate_ratings,
)
from movierec.data.columnar import validation_mask
from movierec.devices import as_index, model_device, to_numpy
from movierec.errors import ConfigError, DataFormatError, NotFittedError, UnknownIdError
from movierec.evaluate import DampedBias
from movierec.models import (
    DEFAULT_PRESET,
    Scorer,
    build_model,
    encode_tower_features,
    get_preset,
)
from movierec.models.fit_memory import check_fit_memory
from movierec.models.presets import check_preset_options
from movierec.training import History, RatingTensors, TrainConfig, Trainer

if TYPE_CHECKING:
    from movierec.coldstart import Preferences
    from movierec.data.columnar import RatingSource
    from movierec.index import MovieIndex

log = logging.getLogger(__name__)

TRAIN_FIELDS = frozenset(f.name for f in dataclasses.fields(TrainConfig))
_PRESET = object()  # "the preset's default" for options where None means "none"


class Recommender:
    """Fit a preset model on a ratings frame, then predict, recommend and explain with raw ids.

    `Recommender()` is movierec's best ranker ("top-k", with stars from biased-mf);
    `Recommender(model="biased-mf", dim=64, epochs=30)`: keyword options that are
    `TrainConfig` fields configure training; every other option goes to the model preset.
    Unknown options raise `ConfigError`.

    Unknown-id rule for `predict`: a user or movie unseen in training gets the damped-bias
    estimate (global mean + the known movie's or user's bias, 0 for the unknown side),
    clipped to the rating range; `strict=True` raises `UnknownIdError` instead.

    `rater`: a rating preset fitted beside a ranker on the same ratings, which answers
    `predict` (the stars shown next to the ranker's lists); the preset's own default when
    not given (the "top-k" preset has one), None for none.

    `rating_range=(low, high)`: the rating scale; by default the MovieLens scale the ratings
    lie on (1..5, or 0.5..5 with half stars), else their min..max with a warning. Ratings
    outside the scale are refused, by `fit` when it is given and by `fold_in` always.
    Ids are whole numbers everywhere; numeric strings ("42") count as the number.
    """

    def __init__(self, model: str = DEFAULT_PRESET, *, validation_fraction: float = 0.05,
                 seed: int = 0, progress: bool = True, rater: str | object | None = _PRESET,
                 rating_range: tuple[float, float] | None = None, **options: object) -> None:
        spec = get_preset(model)  # unknown name -> ConfigError listing the presets
        self.rater_preset = spec.rater if rater is _PRESET else rater
        if self.rater_preset is not None:
            if spec.model_class.predicts_ratings:
                raise ConfigError(f"preset {model!r} predicts ratings itself; a rater is for "
                                  "rankers (rater=None)")
            if not get_preset(str(self.rater_preset)).model_class.predicts_ratings:
                raise ConfigError(f"rater {self.rater_preset!r} does not predict ratings; pick "
                                  "a rating preset such as 'biased-mf'")
        if not 0.0 <= validation_fraction < 1.0:
            raise ConfigError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
        self.rating_range = None if rating_range is None else _check_scale(rating_range)
        self.preset = model
        self.validation_fraction = validation_fraction
        self.seed = seed
        self.train_options = {k: v for k, v in options.items() if k in TRAIN_FIELDS}
        self.model_options = {k: v for k, v in options.items() if k not in TRAIN_FIELDS}
        self.train_config = TrainConfig.for_preset(model, seed=seed, progress=progress,
                                                   **self.train_options)
        self.model: Scorer | None = None
        self.user_ids: IdMap | None = None
        self.movie_ids: IdMap | None = None
        self.seen: SeenMovies | None = None
        self.fallback: DampedBias | None = None
        self.movies: pd.DataFrame | None = None
        self.history: History | None = None
        self.index: MovieIndex | None = None
        self.rater: Recommender | None = None

    # ----------------------------------------------------------------- training
    def fit(self, ratings: RatingSource, validation: pd.DataFrame | None = None, *,
            movies: pd.DataFrame | None = None, users: pd.DataFrame | None = None,
            train_parts: Sequence[str] | None = None,
            continue_training: bool = False, engine: str = "auto") -> Recommender:
        """Train on canonical ratings (a DataFrame, a pyarrow Table or a parquet file path);
        carves its own validation split when none is given.

        `engine="auto"` trains inputs of `at_scale.COLUMNAR_ROWS` (2M) ratings or more on the
        columnar path when the preset is a rating model trained on minibatches: int32
        columns instead of a validated frame and tensors, the compiled kernel for
        factorisation presets, every epoch kept, a fresh model each time (see
        recommender/at_scale.py). "columnar" asks for that path at any size, "frame" never.
        `movies` (genres, year) and `users` (demographics) feed the towers of presets that
        read side features (two-tower). Retrieval presets, whose scores are not ratings,
        train on every given rating without a validation split.
        A second `fit` with `train_parts=[...]` retrains only those parts of the fitted model
        on the new ratings (their users and movies must be known).
        `continue_training=True` goes on from the current weights (e.g. at a lower
        `train_config.lr`), appending to `history` with the epoch numbers following on; the
        rater, if any, is left as it is.
        """
        from movierec.recommender.at_scale import fit_columnar, frame_input, takes_columnar_path

        if movies is not None:
            self.movies = movies.set_index("movie_id", drop=False)
        refit = train_parts is not None or continue_training
        if takes_columnar_path(self, ratings, engine, refit=refit):
            return fit_columnar(self, ratings, validation)
        ratings, source = frame_input(ratings)
        scale = self.model.rating_range if self.model is not None else self.rating_range
        ratings = validate_ratings(ratings, source=source, rating_range=scale)
        if train_parts is not None and self.model is None:
            raise NotFittedError("fit(train_parts=...) retrains a fitted model; call fit() first")
        if continue_training:
            self._check_continuable()
        given = ratings
        if self.model is None:
            self._build(given, users)
        every = self._tensors(given)  # ids mapped once; the carve is a mask over these rows
        train, val, carved = every, None, False
        if validation is not None:
            val = self._tensors(self._known_rows(validation))
        elif self.model.predicts_ratings and self.validation_fraction > 0:
            held = self._validation_mask(every)
            train, val, carved = every.take(torch.from_numpy(~held)), every.take(
                torch.from_numpy(held)), True
        trainer = Trainer(self._require_model(), self.train_config)
        history = trainer.fit(train, val, train_parts=train_parts)
        self.history = (self.history.continued(history) if continue_training and self.history
                        else history)
        if train_parts is None:  # everything passed in counts as seen, carved validation too
            self.fallback = DampedBias().fit_indexed(
                every.users.numpy(), every.movies.numpy(), every.ratings.numpy(),
                self.user_ids.ids, self.movie_ids.ids)
            if carved:  # models that read ratings when they score now see all of them
                on_device = every.to(model_device(self.model))
                self.model.observe_ratings(on_device.users, on_device.movies,
                                           on_device.ratings, on_device.timestamps)
            self.seen = SeenMovies.from_indices(every.users.numpy(), every.movies.numpy(),
                                                len(self.user_ids), len(self.movie_ids))
            if self.rater_preset is not None and not continue_training:
                self.rater = Recommender(str(self.rater_preset), seed=self.seed,
                                         rating_range=self.model.rating_range,
                                         validation_fraction=self.validation_fraction,
                                         progress=self.train_config.progress,
                                         device=self.train_config.device)
                self.rater.fit(given, movies=movies, users=users)
        return self

    def _check_continuable(self) -> None:
        """Only gradient-trained models go on from their weights; the others refit."""
        regime = self._require_model().training_regime
        if regime not in ("minibatch", "full_batch"):
            raise ConfigError(f"preset {self.preset!r} trains {regime.replace('_', ' ')}; "
                              "continue_training is for gradient-trained rating models: refit")

    @property
    def predicts_ratings(self) -> bool:
        """True when `predict` answers: the model predicts ratings or a rater does."""
        return self._require_model().predicts_ratings or self.rater is not None

    def roles(self) -> dict[str, str | None]:
        """Which preset orders the lists and which predicts the stars (None: no stars)."""
        roles = self._require_model().roles()
        if self.rater is not None:
            roles["rater"] = self.rater.preset
        return roles

    def _known_rows(self, validation: pd.DataFrame) -> pd.DataFrame:
        """The validation rows whose user and movie the model knows; the others are dropped
        with a warning (a model cannot be scored on ids it never saw)."""
        validation = validate_ratings(validation, source="validation passed to fit()",
                                      rating_range=self._require_model().rating_range)
        known = (validation["user_id"].isin(self.user_ids.ids)
                 & validation["movie_id"].isin(self.movie_ids.ids))
        if not known.all():
            log.warning("fit(): dropped %d of %d validation ratings whose user or movie is not "
                        "in the training ratings", int((~known).sum()), len(validation))
        return validation[known]

    def _validation_mask(self, rows: RatingTensors) -> np.ndarray:
        """The carved validation rows of `rows` (the columnar path's rule, `validation_mask`)."""
        return validation_mask(rows.users.numpy(), rows.movies.numpy(), len(self.user_ids),
                               len(self.movie_ids), self.validation_fraction, self.seed)

    def _build(self, ratings: pd.DataFrame, users: pd.DataFrame | None) -> None:
        self.user_ids = IdMap.from_ids(ratings["user_id"].to_numpy(), kind="user")
        self.movie_ids = IdMap.from_ids(ratings["movie_id"].to_numpy(), kind="movie")
        options = {"rating_range": self.rating_range or _infer_scale(ratings["rating"]),
                   **self.model_options}
        features = None
        if getattr(get_preset(self.preset).model_class, "uses_side_features", False):
            features = encode_tower_features(self.movie_ids.ids, self.user_ids.ids,
                                             self.movies, users)
            options = {**features.options(), **options}  # the caller's sizes win (0: off)
        spec = get_preset(self.preset)
        check_preset_options(self.preset, self.model_options)  # before estimating from them
        check_fit_memory(self.preset, len(self.movie_ids), spec.model_class.fit_memory(
            len(self.movie_ids), {**spec.model_defaults, **self.model_options}))
        self.model = build_model(self.preset, len(self.user_ids), len(self.movie_ids),
                                 seed=self.seed, **options)
        if features is not None:
            self.model.set_features(features)  # type: ignore[operator]

    def _tensors(self, ratings: pd.DataFrame) -> RatingTensors:
        users = self._require(self.user_ids).to_index(ratings["user_id"].to_numpy())
        movies = self._require(self.movie_ids).to_index(ratings["movie_id"].to_numpy())
        times = (torch.tensor(ratings["timestamp"].to_numpy(np.int64))
                 if "timestamp" in ratings.columns else None)
        return RatingTensors(torch.from_numpy(users), torch.from_numpy(movies),
                             torch.tensor(ratings["rating"].to_numpy(np.float32)), times)

    def fold_in(self, ratings: pd.DataFrame, *, epochs: int = 40) -> list[int]:
        """Add the users in `ratings` (or replace known users' ratings) without retraining
        the rest; returns the raw ids of the users that were new.

        Rankers that read histories (EASE, dae, item2vec, sasrec, popularity) store the
        new histories and score them at once; iALS solves the new rows in closed form;
        factorisation and MLP models train only those users' rows for `epochs`. Every other
        parameter stays bit-identical; the movies must be known to the model. Presets that
        train as a whole (autoencoders, item-knn, "best") raise ConfigError: refit them.
        """
        model = self._require_model()
        if not model.supports_fold_in:
            raise ConfigError(f"preset {self.preset!r} cannot fold in users: it trains as a "
                              "whole; refit on all ratings")
        ratings = validate_ratings(ratings, source="ratings passed to fold_in()",
                                   rating_range=model.rating_range)
        movie_idx = self._require(self.movie_ids).to_index(ratings["movie_id"].to_numpy())
        raw_users = ratings["user_id"].to_numpy()
        new_users = [u for u in pd.unique(raw_users) if u not in self.user_ids]
        if new_users:
            self.user_ids = self.user_ids.extend(np.asarray(new_users, dtype=np.int64))
            model.add_users(len(new_users))
        user_idx = self.user_ids.to_index(raw_users)
        data = self._tensors(ratings)
        if model.fold_in_regime == "history":
            model.set_user_histories(data.users, data.movies, data.ratings,  # type: ignore[attr-defined]
                                     data.timestamps)
        else:
            dense = "adam" if self.train_config.optimizer.startswith("sparse_") else None
            config = self.train_config.replace(epochs=epochs, patience=None, progress=False,
                                               lr_schedule="none",
                                               optimizer=dense or self.train_config.optimizer)
            rows = torch.from_numpy(np.unique(user_idx))
            Trainer(model, config).fit(data, None, trainable_user_rows=rows)
        self.seen = self._require(self.seen).with_user_rows(user_idx, movie_idx,
                                                            len(self.user_ids))
        if self.rater is not None:
            self.rater.fold_in(ratings, epochs=epochs)
        return [int(u) for u in new_users]

    # ----------------------------------------------------------------- scoring
    def predict(self, pairs: pd.DataFrame, *, strict: bool = False) -> np.ndarray:
        """Predicted rating for each (user_id, movie_id) row, in input order."""
        model = self._require_model()
        if not model.predicts_ratings:
            if self.rater is not None:
                return self.rater.predict(pairs, strict=strict)
            raise ConfigError(f"preset {self.preset!r} ranks movies but does not predict "
                              "ratings; use recommend(), or fit it with a rater "
                              "(Recommender(..., rater='biased-mf'))")
        users = self.user_ids.to_index(_pair_ids(pairs, "user_id"), missing="negative")
        movies = self.movie_ids.to_index(_pair_ids(pairs, "movie_id"), missing="negative")
        known = (users >= 0) & (movies >= 0)
        if strict and not known.all():
            first = int(np.flatnonzero(~known)[0])
            row = pairs.iloc[first]
            raise UnknownIdError(
                f"row {first}: user {row['user_id']} / movie {row['movie_id']} was not in the "
                "training data; use strict=False for the damped-bias fallback or fold_in()")
        result = np.empty(len(pairs), dtype=np.float32)
        if known.any():
            with torch.no_grad():
                model.eval()
                device = model_device(model)
                result[known] = to_numpy(model.predict(as_index(users[known], device),
                                                       as_index(movies[known], device)))
        if not known.all():
            low, high = model.rating_range
            guess = self._require(self.fallback).predict(pairs[~known])
            result[~known] = np.clip(guess, low, high)
        return result

    def predict_proba(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """Each rating class's probability for each (user_id, movie_id) row, in input order:
        one column per class (its rating value), rows summing to 1. For classifier presets,
        or a classifier rater; an unknown id raises UnknownIdError (the damped-bias fallback
        of `predict` has no classes)."""
        from movierec.models.classifier import RatingClassifier

        model = self._require_model()
        if not isinstance(model, RatingClassifier):
            if self.rater is not None:
                return self.rater.predict_proba(pairs)
            raise ConfigError(f"preset {self.preset!r} is not a classifier, so it has no class "
                              "probabilities; use predict(), or a preset such as 'classifier'")
        users = self.user_ids.to_index(_pair_ids(pairs, "user_id"))
        movies = self.movie_ids.to_index(_pair_ids(pairs, "movie_id"))
        with torch.no_grad():
            model.eval()
            device = model_device(model)
            logits = model(as_index(users, device), as_index(movies, device))
            probabilities = to_numpy(torch.softmax(logits.double(), dim=1))
        return pd.DataFrame(probabilities, index=pairs.index, columns=list(model.rating_values))

    def recommend(self, user_id: int, k: int = 10, *, exclude_seen: bool = True,
                  unknown: Literal["error", "popular"] = "error",
                  candidates: Collection[int] | None = None) -> pd.DataFrame:
        """Top-k movies for a known user: movie_id, title, score (the model's ranking score;
        a predicted rating for rating models), best first.

        `candidates` restricts the answer to those movie ids (e.g. one genre); ids the model
        does not know are ignored.
        """
        self._require_model()
        _check_k(k)
        if user_id not in self._require(self.user_ids):
            if unknown == "popular":
                return self.popular(k)
            raise UnknownIdError(f"user {user_id} is not known to the model; fold_in() their "
                                 "ratings first, or pass unknown='popular'")
        user = int(self.user_ids.to_index([user_id])[0])
        if self.index is not None and candidates is None:
            return self._recommend_from_index(user, k, exclude_seen)
        allowed = None
        if candidates is not None:
            wanted = self.movie_ids.to_index(list(candidates), missing="negative")
            allowed = torch.zeros(len(self.movie_ids), dtype=torch.bool)
            allowed[torch.from_numpy(wanted[wanted >= 0])] = True
        positions, scores = self._top_k(np.array([user]), k, exclude_seen, allowed)
        found = positions[0] >= 0
        return self._movie_frame(positions[0][found], scores[0][found])

    def recommend_many(self, user_ids: Collection[int], k: int = 10, *,
                       exclude_seen: bool = True, block: int = 1024) -> pd.DataFrame:
        """Top-k for many known users, scored in blocks: one frame of user_id, rank (1 =
        best), movie_id, title, score, users in the order given."""
        self._require_model()
        _check_k(k)
        raw = raw_ids(list(user_ids), column="user_id", source="recommend_many() user ids")
        users = self._require(self.user_ids).to_index(raw)
        frames = []
        for start in range(0, len(users), block):
            batch = users[start:start + block]
            positions, scores = self._top_k(batch, k, exclude_seen)
            rows, ranks = np.nonzero(positions >= 0)
            frame = self._movie_frame(positions[rows, ranks], scores[rows, ranks])
            frame.insert(0, "rank", ranks + 1)
            frame.insert(0, "user_id", raw[start:start + block][rows])
            frames.append(frame)
        if not frames:
            return pd.DataFrame(columns=["user_id", "rank", "movie_id", "score"])
        return pd.concat(frames, ignore_index=True)

    def _top_k(self, users: np.ndarray, k: int, exclude_seen: bool,
               allowed: torch.Tensor | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The model's scores for a block of user indices, through the one top-k rule."""
        model = self._require_model()
        with torch.no_grad():
            model.eval()
            scores = model.score(as_index(users, model_device(model)))
        seen = self._require(self.seen) if exclude_seen else None
        return top_k_unseen(scores, k, seen=seen, users=users, allowed=allowed)

    def ranking_metrics(self, test: pd.DataFrame, ks: Sequence[int] = (10, 20),
                        progress: bool = False) -> dict[str, float]:
        """Full-catalogue Recall/Precision/NDCG/HitRate/MAP/MRR@k and coverage of this model's
        lists (seen movies excluded) against `test`'s (user_id, movie_id) rows; rows whose
        user or movie the model does not know are left out, and counted in "n_test"."""
        from movierec.evaluate.ranking import ranking_metrics

        users, movies, scorer = self._test_rows(test)
        result = ranking_metrics(scorer, users, movies, len(self.movie_ids),
                                 seen=self.seen, ks=ks, progress=progress)
        return {**result, "n_test": len(users)}

    def user_ranking_metrics(self, test: pd.DataFrame, ks: Sequence[int] = (10, 20)
                             ) -> pd.DataFrame:
        """`ranking_metrics` for each test user: one row per user_id the model knows with a
        test movie it knows, one column per metric (coverage aside); the column means are
        `ranking_metrics`. For paired comparisons of two models on the same users."""
        from movierec.evaluate.ranking import per_user_ranking_metrics

        users, movies, scorer = self._test_rows(test)
        table = per_user_ranking_metrics(scorer, users, movies, len(self.movie_ids),
                                         seen=self.seen, ks=ks)
        table.index = pd.Index(self.user_ids.ids[table.index.to_numpy()], name="user_id")
        return table

    def factorized_top_k(self, test: pd.DataFrame,
                         ks: Sequence[int] = (1, 5, 10, 50, 100)) -> dict[str, float]:
        """TensorFlow Recommenders' FactorizedTopK accuracy ("factorized_top_{k}"): the share
        of `test`'s (user_id, movie_id) rows whose movie is among the user's k best-scored
        movies of the whole catalogue, movies rated in training included, as TFRS counts
        them; rows whose user or movie the model does not know are left out, and counted
        in "n_test". Meaningless for presets that score only candidates (retrieve-rank)."""
        from movierec.evaluate.ranking import factorized_top_k_accuracy

        users, movies, scorer = self._test_rows(test)
        return {**factorized_top_k_accuracy(scorer, users, movies, ks=ks), "n_test": len(users)}

    def _test_rows(self, test: pd.DataFrame
                   ) -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], torch.Tensor]]:
        """The user and movie indices of `test`'s rows the model knows, and a scorer of
        blocks of user indices for the evaluation functions."""
        model = self._require_model()
        users = self._require(self.user_ids).to_index(test["user_id"].to_numpy(),
                                                      missing="negative")
        movies = self.movie_ids.to_index(test["movie_id"].to_numpy(), missing="negative")
        known = (users >= 0) & (movies >= 0)
        if not known.any():
            raise ConfigError("no test row has a user and a movie the model knows")

        def scorer(block: np.ndarray) -> torch.Tensor:
            with torch.no_grad():
                return model.eval().score(as_index(block, model_device(model)))

        return users[known], movies[known], scorer

    def movie_scores(self, user_id: int) -> pd.Series:
        """The model's score of every movie for a known user (index movie_id), seen
        included: predicted ratings for rating models, ranking scores for rankers."""
        model = self._require_model()
        user = self._require(self.user_ids).to_index([user_id])
        with torch.no_grad():
            model.eval()
            scores = to_numpy(model.score(as_index(user, model_device(model)))[0])
        return pd.Series(scores, index=self.movie_ids.ids, name="score")

    def build_index(self, kind: str = "exact", **params: object) -> MovieIndex:
        """Serve `recommend` from a vector index ("exact", or faiss "hnsw" / "ivf") over the
        model's movie vectors; only for dot-product models. Saved with the model."""
        from movierec.index import make_index, movie_index_vectors

        vectors = movie_index_vectors(self._require_model())
        self.index = make_index(kind, **params).build(vectors)
        return self.index

    def _recommend_from_index(self, user: int, k: int, exclude_seen: bool) -> pd.DataFrame:
        from movierec.index import user_query_vectors

        model = self._require_model()
        device = model_device(model)
        query = user_query_vectors(model, as_index([user], device))
        exclude = [self._require(self.seen).movies_of(user)] if exclude_seen else None
        positions, products = self.index.search(query, k, exclude=exclude)
        found = positions[0] >= 0
        positions, scores = positions[0][found], products[0][found]
        if model.predicts_ratings:  # MF: report the predicted rating, not the inner product
            with torch.no_grad():
                scores = to_numpy(model.predict(torch.full((len(positions),), user,
                                                           device=device),
                                                as_index(positions, device)))
        return self._movie_frame(positions, scores)

    def popular(self, k: int = 10) -> pd.DataFrame:
        """The k movies rated by most training users (a cold-start answer)."""
        _check_k(k)
        counts = np.asarray(self._require(self.seen).matrix.sum(axis=0)).ravel()
        positions, scores = top_k_unseen(torch.from_numpy(counts.astype(np.float32))[None], k)
        return self._movie_frame(positions[0], scores[0])

    def similar_movies(self, movie_id: int, k: int = 10) -> pd.DataFrame:
        """Movies most similar to the given one: cosine of the movie vectors, or, for
        rankers over histories, the scores of a history holding only that movie."""
        model = self._require_model()
        _check_k(k)
        movie = int(self._require(self.movie_ids).to_index(movie_id))
        with torch.no_grad():
            model.eval()
            scores = model.similar_movie_scores(as_index([movie], model_device(model)))[0]
            scores = scores.clone()
        scores[movie] = -torch.inf
        positions, values = top_k_unseen(scores[None], k)
        found = positions[0] >= 0
        return self._movie_frame(positions[0][found], values[0][found])

    def users_for_movie(self, movie_id: int, k: int = 100, *,
                        exclude_seen: bool = True, block: int = 1024) -> pd.DataFrame:
        """Users who score the movie highest (targeting): user_id, score."""
        model = self._require_model()
        _check_k(k)
        movie = int(self._require(self.movie_ids).to_index(movie_id))
        n_users, device = len(self.user_ids), model_device(model)
        every_user = torch.arange(n_users, device=device)
        with torch.no_grad():
            model.eval()
            if model.predicts_ratings:
                scores = model.predict(every_user, torch.full((n_users,), movie, device=device))
            else:
                scores = torch.cat([model.score(users)[:, movie]
                                    for users in every_user.split(block)])
        if exclude_seen:
            scores[as_index(self._require(self.seen).users_of(movie), device)] = -torch.inf
        positions, values = top_k_unseen(scores[None], k)
        found = positions[0] >= 0
        return pd.DataFrame({"user_id": self.user_ids.to_raw(positions[0][found]),
                             "score": values[0][found]})

    def embeddings(self, kind: Literal["user", "movie"] = "movie") -> pd.DataFrame:
        """One row per user or movie: its raw id then the vector columns d0, d1, ..."""
        model = self._require_model()
        if kind not in ("user", "movie"):
            raise ConfigError(f"kind must be 'user' or 'movie', got {kind!r}")
        with torch.no_grad():
            vectors = to_numpy(model.user_vectors() if kind == "user" else model.movie_vectors())
        ids = self.user_ids if kind == "user" else self.movie_ids
        frame = pd.DataFrame(vectors, columns=[f"d{i}" for i in range(vectors.shape[1])])
        frame.insert(0, f"{kind}_id", ids.ids)
        if kind == "movie" and self.movies is not None:
            frame.insert(1, "title", self.movies["title"].reindex(ids.ids).to_numpy())
        return frame

    def _movie_frame(self, positions: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
        """movie_id, title (when known), score for movie indices, in the given order."""
        frame = pd.DataFrame({"movie_id": self.movie_ids.ids[positions], "score": scores})
        if self.movies is not None:
            frame.insert(1, "title", self._titles()[positions])
        return frame

    def _titles(self) -> np.ndarray:
        """Titles aligned with movie indices (None where unknown), cached per catalogue."""
        key = (id(self.movies), len(self.movie_ids))
        if getattr(self, "_title_cache", (None,))[0] != key:
            titles = self.movies["title"].reindex(self.movie_ids.ids).to_numpy(dtype=object)
            self._title_cache = (key, np.where(pd.isna(titles), None, titles))
        return self._title_cache[1]

    # ----------------------------------------------------------------- views
    def rated_vs_recommended(self, user_id: int, ratings: pd.DataFrame,
                             k: int = 10) -> pd.DataFrame:
        """The user's k highest-rated movies in `ratings` beside their top-k list, one row
        per rank: rated_movie_id, rated_title, rating | movie_id, title, score.

        The model keeps which movies each user rated, not the ratings (keeping them would
        add the whole training set to every saved model), so pass the ratings frame, usually
        the one given to `fit`. Equal ratings list the most recent first.
        """
        self._require_model()
        _check_k(k)
        recommended = self.recommend(user_id, k)
        mine = ratings[ratings["user_id"] == user_id]
        order = ["rating", "timestamp"] if "timestamp" in mine.columns else ["rating"]
        rated = mine.sort_values(order, ascending=False, kind="stable").head(k)
        left = pd.DataFrame({"rated_movie_id": rated["movie_id"].to_numpy(np.int64)})
        if self.movies is not None:
            left["rated_title"] = self.movies["title"].reindex(left["rated_movie_id"]).to_numpy()
        left["rating"] = rated["rating"].to_numpy(np.float64)
        frame = pd.concat([left, recommended], axis=1)
        frame[["rated_movie_id", "movie_id"]] = frame[["rated_movie_id", "movie_id"]].astype(
            "Int64")
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="rank")
        return frame

    def cold_start(self, preferences: Preferences | None = None,
                   ratings: Mapping[int, float] | None = None, k: int = 10, *,
                   epochs: int = 40) -> pd.DataFrame:
        """Top-k for a new person from stated tastes and a few ratings ({movie_id: rating}),
        by the service's blend (`movierec.coldstart.profile_scores`): stated tastes alone
        with no rating; with n ratings, the model's scores for the person folded into a copy
        of the model weigh n / (n + 5). This Recommender is left unchanged. Columns:
        movie_id, title (when known), score (the blended score), rated movies excluded.
        """
        from movierec.recommender.cold_start import cold_start_list

        return cold_start_list(self, preferences, ratings, k, epochs)

    def _description(self) -> dict[str, str]:
        """What `repr` and the notebook view show: preset, roles, data shape, fit state."""
        found = {"preset": self.preset}
        if self.model is None:
            return {**found, "state": "not fitted"}
        found.update({role: str(name) for role, name in self.roles().items()})
        found["data"] = f"{len(self.user_ids):,} users x {len(self.movie_ids):,} movies"
        found["state"] = "fitted"
        for who, rec in (("best validation", self), ("rater validation", self.rater)):
            best = rec.history.best_validation() if rec is not None and rec.history else None
            if best is not None:
                found[who] = f"{best[0]} {best[1]:.4f}"
        return found

    def __repr__(self) -> str:
        return "Recommender(" + ", ".join(f"{k}: {v}" for k, v in self._description().items()) + ")"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
                       for k, v in self._description().items())
        return f"<table><caption>movierec Recommender</caption>{rows}</table>"

    # ----------------------------------------------------------------- persistence
    @property
    def ratings_per_second(self) -> float | None:
        return self.history.ratings_per_second if self.history else None

    def save(self, path: str | Path) -> Path:
        """Write config.json + weights.safetensors (+ movies.parquet) into a folder."""
        from movierec.recommender.artifacts import save_recommender

        return save_recommender(self, Path(path))

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> Recommender:
        """Load a folder written by `save`, without the training data, onto `device`
        (whatever device it was trained on); fold-in and further fits train there too."""
        from movierec.recommender.artifacts import load_recommender

        return load_recommender(Path(path), device)

    def _require_model(self) -> Scorer:
        if self.model is None:
            raise NotFittedError("this Recommender is not fitted; call fit() or load() first")
        return self.model

    def _require(self, value):  # type: ignore[no-untyped-def]
        if value is None:
            raise NotFittedError("this Recommender is not fitted; call fit() or load() first")
        return value


def _check_scale(rating_range: object) -> tuple[float, float]:
    """(low, high) as floats, finite with low < high, else a ConfigError."""
    try:
        low, high = (float(v) for v in rating_range)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ConfigError(f"rating_range must be (low, high), got {rating_range!r}") from None
    if not (np.isfinite([low, high]).all() and low < high):
        raise ConfigError(f"rating_range must be finite with low < high, got {rating_range!r}")
    return low, high


def _pair_ids(pairs: pd.DataFrame, column: str) -> np.ndarray:
    """A predict() id column by the one id rule: "42" is 42; NaN, None, "abc" raise."""
    if column not in pairs.columns:
        raise DataFormatError(f"pairs passed to predict(): missing column {column}")
    return raw_ids(pairs[column], column=column, source="pairs passed to predict()")


def _infer_scale(ratings: pd.Series) -> tuple[float, float]:
    """The MovieLens scale of the ratings, else their min..max and a warning (a stray 50
    would otherwise silently make the scale 1..50)."""
    scale = movielens_scale(ratings.to_numpy())
    if scale is None:
        scale = (float(ratings.min()), float(ratings.max()))
        log.warning("fit(): the ratings span %g..%g, which is not a MovieLens scale (1..5, or "
                    "0.5..5 with half stars); using it as the scale. Pass rating_range=(low, "
                    "high) to state the scale and silence this warning.", *scale)
    return scale


def _check_k(k: int) -> None:
    """Every list method takes k >= 1 (an int); anything else is a ConfigError."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k must be a whole number >= 1, got {k!r}")
