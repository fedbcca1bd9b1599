"""`ProfileService`: new people's profiles — stored, folded into the model, recommended for.

Each write is checked first (a preset that cannot fold in takes no profiles, and writes
nothing), commits to the store, then folds the profile's full current ratings into the
model, so the database is the truth and the model can always be re-derived from it
(`restore` does that at start-up, skipping what the current model cannot hold).
"""

from __future__ import annotations

import logging

import numpy as np

from movierec.coldstart import Preferences, blend, preference_scores, standardize
from movierec.errors import ConfigError
from movierec.service.guarded import GuardedRecommender, profile_user_id
from movierec.service.store import Profile, ProfileStore

log = logging.getLogger(__name__)
HALF_WEIGHT_AT = 5.0  # ratings at which collaborative and stated-taste scores weigh the same


class ProfileService:
    """Create and change profiles; recommend for them with cold-start blending."""

    def __init__(self, model: GuardedRecommender, store: ProfileStore, fold_in_epochs: int = 40):
        self.model = model
        self.store = store
        self.fold_in_epochs = fold_in_epochs

    def restore(self) -> int:
        """Fold every stored profile with ratings back into the model; returns how many.

        Profiles the model cannot hold (a preset that cannot fold in; a movie the model
        does not know, after a retrain) are skipped with a warning: they keep their stored
        ratings and get recommendations from their stated tastes.
        """
        rated = {p.profile_id: p.ratings for p in self.store.all() if p.ratings}
        if rated and not self.model.folds_in:
            log.warning("%d stored profile(s) with ratings are not folded in: preset %r "
                        "cannot fold in new users", len(rated), self.model.rec.preset)
            return 0
        foldable = {pid: ratings for pid, ratings in rated.items() if self._foldable(pid, ratings)}
        self.model.fold_in(foldable, self.fold_in_epochs)
        return len(foldable)

    def create(self, name: str, preferences: Preferences, ratings: dict[int, float]) -> Profile:
        self._check(preferences, ratings)
        profile = self.store.create(name, preferences, ratings)
        self._refit(profile)
        return profile

    def get(self, profile_id: int) -> Profile:
        return self.store.get(profile_id)

    def set_preferences(self, profile_id: int, preferences: Preferences) -> Profile:
        self._check(preferences, {})
        self.store.set_preferences(profile_id, preferences)
        return self.store.get(profile_id)

    def rate(self, profile_id: int, movie_id: int, rating: float) -> Profile:
        self._check(None, {movie_id: rating})
        self.store.set_rating(profile_id, movie_id, rating)
        return self._refit(self.store.get(profile_id))

    def unrate(self, profile_id: int, movie_id: int) -> Profile:
        self._check(None, {})
        self.store.delete_rating(profile_id, movie_id)
        return self._refit(self.store.get(profile_id))

    def recommend(self, profile: Profile, k: int, genre: str | None = None) -> list[dict]:
        """Top-k unrated movies: stated tastes blended with the model as ratings accrue.

        The model's part is the ranker's scores of the unrated movies, standardised for this
        profile (a ranker's scores are not stars); with n ratings it weighs n / (n + 5)
        against the stated tastes. A profile that states no tastes gets the model's list
        alone once it has a rating, the list a known user with the same ratings gets.
        Each item says why: the rated movie it is most similar to among those rated at or
        above the middle of the scale, or the matching favourite genre; and carries the
        rater's predicted rating, if any.
        """
        catalog = self.model.catalog
        user = profile_user_id(profile.profile_id)
        preference = preference_scores(catalog.frame, catalog.popularity, profile.preferences)
        collaborative = self.model.movie_scores(user) if profile.ratings else None
        if collaborative is not None:  # standardised over what may be recommended
            unrated = collaborative.drop(index=list(profile.ratings), errors="ignore")
            collaborative = standardize(unrated[np.isfinite(unrated.to_numpy())]
                                        .astype(np.float64))
        if collaborative is not None and profile.preferences == Preferences():
            scores = collaborative
        else:
            scores = blend(preference, collaborative, len(profile.ratings), HALF_WEIGHT_AT)
        scores = scores.drop(index=list(profile.ratings), errors="ignore")
        if genre:
            in_genre = catalog.frame.index[catalog.genre_rows(genre)]
            scores = scores[scores.index.isin(in_genre)]
        top = scores.nlargest(k)
        movie_ids = [int(m) for m in top.index]
        stars = self.model.predicted_ratings(user, movie_ids) or [None] * len(movie_ids)
        return self._explain(profile, movie_ids, top.to_list(), stars)

    def _explain(self, profile: Profile, movie_ids: list[int], scores: list[float],
                 stars: list[float | None]) -> list[dict]:
        low, high = self.model.rating_range
        liked = [m for m, r in profile.ratings.items()
                 if r >= (low + high) / 2 and m in self.model.catalog]
        because = self.model.closest_rated(movie_ids, liked) if liked and movie_ids else None
        favourites = set(profile.preferences.liked_genres)
        items = []
        for i, (movie_id, score, rating) in enumerate(zip(movie_ids, scores, stars,
                                                          strict=True)):
            details = self.model.catalog.details(movie_id)
            reason = None
            if because is not None:
                reason = {"movie_id": because[i], "title": self.model.catalog.title(because[i])}
            genres = [g for g in details["genres"] if g in favourites]
            items.append({**details, "score": float(score), "predicted_rating": rating,
                          "because_you_rated": reason, "matching_genres": genres})
        return items

    def _check(self, preferences: Preferences | None, ratings: dict[int, float]) -> None:
        """Refuse a write before it is stored: the model must fold in, the genres, movies
        and ratings must be known to it."""
        self.model.require_fold_in()
        if preferences is not None:
            preferences.check_genres(self.model.catalog.genres)
        unknown = [m for m in ratings if m not in self.model.catalog]
        if unknown:
            raise ConfigError(f"movie id(s) {', '.join(map(str, unknown[:5]))} are not known "
                              "to the model")
        for rating in ratings.values():
            self.model.check_rating(rating)

    def _foldable(self, profile_id: int, ratings: dict[int, float]) -> bool:
        """Whether the model knows every movie the profile rated (warns when not)."""
        unknown = sorted(m for m in ratings if m not in self.model.catalog)
        if unknown:
            log.warning("profile %d is not folded into the model: it rated movie(s) %s, which "
                        "this model does not know (retrained?); it is recommended for from "
                        "its stated tastes", profile_id, ", ".join(map(str, unknown[:5])))
        return not unknown

    def _refit(self, profile: Profile) -> Profile:
        if self._foldable(profile.profile_id, profile.ratings):
            self.model.fold_in({profile.profile_id: profile.ratings}, self.fold_in_epochs)
        return profile
