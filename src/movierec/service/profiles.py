"""`ProfileService`: new people's profiles — stored, folded into the model, recommended for.

Each write is checked first (a preset that cannot fold in takes no profiles, and writes
nothing), commits to the store, then folds the profile's full current ratings into the
model, so the database is the truth and the model can always be re-derived from it
(`restore` does that at start-up). Stored ratings the current model cannot hold (movies a
retrain dropped; every rating, for a preset that cannot fold in) are kept but ignored,
counted in `ignored_ratings` and logged.
"""

from __future__ import annotations

import logging

from movierec.coldstart import Preferences, preference_scores, profile_scores
from movierec.errors import ConfigError
from movierec.service.guarded import GuardedRecommender, profile_user_id
from movierec.service.store import Profile, ProfileStore

log = logging.getLogger(__name__)


class ProfileService:
    """Create and change profiles; recommend for them with cold-start blending."""

    def __init__(self, model: GuardedRecommender, store: ProfileStore, fold_in_epochs: int = 40):
        self.model = model
        self.store = store
        self.fold_in_epochs = fold_in_epochs
        self._ignored: dict[int, int] = {}  # profile id -> stored ratings the model ignores

    @property
    def ignored_ratings(self) -> int:
        """How many stored profile ratings the model ignores."""
        return sum(self._ignored.values())

    def restore(self) -> int:
        """Fold every stored profile's ratings of known movies back into the model; returns
        how many profiles were folded in.

        Ratings the model cannot hold (a preset that cannot fold in; a movie the model does
        not know, after a retrain) stay stored and are ignored, with a warning; a profile
        left with none gets recommendations from its stated tastes.
        """
        rated = {p.profile_id: p.ratings for p in self.store.all() if p.ratings}
        if rated and not self.model.folds_in:
            self._ignored = {pid: len(ratings) for pid, ratings in rated.items()}
            log.warning("%d stored profile(s) with ratings are not folded in: preset %r "
                        "cannot fold in new users", len(rated), self.model.rec.preset)
            return 0
        known = {pid: self._known(pid, ratings) for pid, ratings in rated.items()}
        foldable = {pid: ratings for pid, ratings in known.items() if ratings}
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
        n_known = sum(m in catalog for m in profile.ratings)
        collaborative = self.model.movie_scores(user) if n_known else None
        scores = profile_scores(preference, collaborative, profile.ratings, profile.preferences,
                                n_known)
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

    def _known(self, profile_id: int, ratings: dict[int, float]) -> dict[int, float]:
        """The ratings of movies the model knows; the others are counted as ignored, with a
        warning when their number changes."""
        unknown = sorted(m for m in ratings if m not in self.model.catalog)
        if len(unknown) != self._ignored.get(profile_id, 0) and unknown:
            log.warning("profile %d: %d stored rating(s) of movie(s) %s%s, which this model "
                        "does not know (retrained?), are kept but ignored", profile_id,
                        len(unknown), ", ".join(map(str, unknown[:5])),
                        ", ..." if len(unknown) > 5 else "")
        if unknown:
            self._ignored[profile_id] = len(unknown)
        else:
            self._ignored.pop(profile_id, None)
        return {m: r for m, r in ratings.items() if m in self.model.catalog}

    def _refit(self, profile: Profile) -> Profile:
        self.model.fold_in({profile.profile_id: self._known(profile.profile_id, profile.ratings)},
                           self.fold_in_epochs)
        return profile
