"""`ProfileService`: new people's profiles — stored, folded into the model, recommended for.

Each write commits to the store first, then folds the profile's full current ratings into
the model, so the database is the truth and the model can always be re-derived from it
(`restore` does that at start-up).
"""

from __future__ import annotations

from movierec.coldstart import Preferences, blend, preference_scores
from movierec.errors import ConfigError
from movierec.service.guarded import GuardedRecommender, profile_user_id
from movierec.service.store import Profile, ProfileStore

HALF_WEIGHT_AT = 5.0  # ratings at which collaborative and stated-taste scores weigh the same


class ProfileService:
    """Create and change profiles; recommend for them with cold-start blending."""

    def __init__(self, model: GuardedRecommender, store: ProfileStore, fold_in_epochs: int = 40):
        self.model = model
        self.store = store
        self.fold_in_epochs = fold_in_epochs

    def restore(self) -> int:
        """Fold every stored profile with ratings back into the model; returns how many."""
        rated = {p.profile_id: p.ratings for p in self.store.all() if p.ratings}
        self.model.fold_in(rated, self.fold_in_epochs)
        return len(rated)

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
        self.store.delete_rating(profile_id, movie_id)
        return self._refit(self.store.get(profile_id))

    def recommend(self, profile: Profile, k: int, genre: str | None = None) -> list[dict]:
        """Top-k unrated movies: stated tastes blended with the model as ratings accrue.

        Each item says why: the rated movie it is most similar to among those rated at or
        above the middle of the scale, or the matching favourite genre.
        """
        catalog = self.model.catalog
        preference = preference_scores(catalog.frame, catalog.popularity, profile.preferences)
        collaborative = (self.model.movie_scores(profile_user_id(profile.profile_id))
                         if profile.ratings else None)
        scores = blend(preference, collaborative, len(profile.ratings), HALF_WEIGHT_AT)
        scores = scores.drop(index=list(profile.ratings))
        if genre:
            in_genre = catalog.frame.index[catalog.genre_rows(genre)]
            scores = scores[scores.index.isin(in_genre)]
        top = scores.nlargest(k)
        return self._explain(profile, [int(m) for m in top.index], top.to_list())

    def _explain(self, profile: Profile, movie_ids: list[int], scores: list[float]) -> list[dict]:
        low, high = self.model.rating_range
        liked = [m for m, r in profile.ratings.items() if r >= (low + high) / 2]
        because = self.model.closest_rated(movie_ids, liked) if liked and movie_ids else None
        favourites = set(profile.preferences.liked_genres)
        items = []
        for i, (movie_id, score) in enumerate(zip(movie_ids, scores, strict=True)):
            details = self.model.catalog.details(movie_id)
            reason = None
            if because is not None:
                reason = {"movie_id": because[i], "title": self.model.catalog.title(because[i])}
            genres = [g for g in details["genres"] if g in favourites]
            items.append({**details, "score": float(score), "because_you_rated": reason,
                          "matching_genres": genres})
        return items

    def _check(self, preferences: Preferences | None, ratings: dict[int, float]) -> None:
        if preferences is not None:
            preferences.check_genres(self.model.catalog.genres)
        unknown = [m for m in ratings if m not in self.model.catalog]
        if unknown:
            raise ConfigError(f"movie id(s) {', '.join(map(str, unknown[:5]))} are not known "
                              "to the model")
        for rating in ratings.values():
            self.model.check_rating(rating)

    def _refit(self, profile: Profile) -> Profile:
        self.model.fold_in({profile.profile_id: profile.ratings}, self.fold_in_epochs)
        return profile
