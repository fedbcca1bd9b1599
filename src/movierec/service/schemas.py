"""Request and response bodies of the REST API (pydantic), which the OpenAPI schema shows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from movierec.coldstart import Preferences

MAX_RATINGS_PER_REQUEST = 1000
MovieId = Field(ge=1, le=2**62, description="Raw MovieLens movie id.")
# Any number JSON can carry (NaN and Infinity too): the served model, which knows its scale,
# refuses what lies off it with a 422 naming the value and the scale.
Rating = Field(description="On the model's scale (see GET /api/model).")


class Strict(BaseModel):
    """Unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class RatingIn(Strict):
    movie_id: int = MovieId
    rating: float = Rating


class RatingValue(Strict):
    rating: float = Rating


class PreferencesIn(Strict):
    liked_genres: list[str] = Field(default_factory=list, max_length=50)
    disliked_genres: list[str] = Field(default_factory=list, max_length=50)
    year_min: int | None = Field(default=None, ge=1800, le=2200)
    year_max: int | None = Field(default=None, ge=1800, le=2200)

    @model_validator(mode="after")
    def _consistent(self) -> PreferencesIn:
        self.to_preferences()  # raises ConfigError (a ValueError) -> 422
        return self

    def to_preferences(self) -> Preferences:
        return Preferences(tuple(self.liked_genres), tuple(self.disliked_genres),
                           self.year_min, self.year_max)


class ProfileIn(Strict):
    name: str = Field(default="", max_length=100)
    preferences: PreferencesIn = Field(default_factory=PreferencesIn)
    ratings: list[RatingIn] = Field(default_factory=list, max_length=MAX_RATINGS_PER_REQUEST)

    @model_validator(mode="after")
    def _one_rating_per_movie(self) -> ProfileIn:
        ids = [r.movie_id for r in self.ratings]
        if len(set(ids)) != len(ids):
            raise ValueError("each movie may be rated once per request")
        return self


class Movie(BaseModel):
    movie_id: int
    title: str
    year: int | None
    genres: list[str]
    n_ratings: int = Field(description="Ratings the model was trained on.")


class ScoredMovie(BaseModel):
    movie_id: int
    title: str
    score: float


PredictedRating = Field(default=None, description="The rater's predicted rating on the model's "
                        "scale; null when the model ranks but predicts no ratings.")


class RecommendedMovie(ScoredMovie):
    score: float = Field(description="The ranker's score, higher is better (a predicted "
                         "rating for rating models).")
    predicted_rating: float | None = PredictedRating


class ScoredUser(BaseModel):
    user_id: int
    score: float


class Because(BaseModel):
    movie_id: int
    title: str


class ProfileRecommendation(Movie):
    score: float = Field(description="Blended score (standardised), higher is better.")
    predicted_rating: float | None = PredictedRating
    because_you_rated: Because | None
    matching_genres: list[str]


class RatingOut(BaseModel):
    movie_id: int
    title: str
    rating: float
    ignored: bool = Field(default=False, description="The model does not know this movie "
                          "(it was retrained without it): the rating is kept but ignored.")


class ProfileOut(BaseModel):
    profile_id: int
    name: str
    preferences: PreferencesIn
    ratings: list[RatingOut]


class ProfileWithRecommendations(BaseModel):
    profile: ProfileOut
    recommendations: list[ProfileRecommendation]


class MovieDetails(Movie):
    similar: list[ScoredMovie]


class Prediction(BaseModel):
    user_id: int
    movie_id: int
    rating: float


class ModelInfo(BaseModel):
    preset: str
    ranker: str = Field(description="The preset that orders the lists.")
    rater: str | None = Field(description="The preset that predicts the stars shown beside "
                              "them; null when the model predicts no ratings.")
    accepts_profiles: bool = Field(description="Whether new people's profiles can be made "
                                   "(the model folds in their ratings).")
    n_users: int
    n_movies: int
    rating_min: float
    rating_max: float
    genres: list[str]
    profiles: int
    write_needs_api_key: bool = Field(description="Whether writes and profile reads need "
                                      "the X-API-Key header.")
    ignored_profile_ratings: int = Field(description="Stored profile ratings the model "
                                         "ignores: of movies it does not know (after a "
                                         "retrain), or all of them when it cannot fold in.")
    report_url: str | None = Field(description="Where the model's explore report is served, "
                                   "or null when it has none.")


class Health(BaseModel):
    status: str


class ErrorOut(BaseModel):
    detail: str | list
