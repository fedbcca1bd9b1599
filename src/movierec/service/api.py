"""REST endpoints under /api: model info, movies, known users, and new people's profiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from movierec.service.auth import require_api_key
from movierec.service.guarded import GuardedRecommender
from movierec.service.profiles import ProfileService
from movierec.service.report import find_report
from movierec.service.schemas import (
    ErrorOut,
    Health,
    ModelInfo,
    Movie,
    MovieDetails,
    Prediction,
    PreferencesIn,
    ProfileIn,
    ProfileOut,
    ProfileRecommendation,
    ProfileWithRecommendations,
    RatingValue,
    RecommendedMovie,
    ScoredMovie,
    ScoredUser,
)
from movierec.service.store import Profile

MAX_K = 500
MAX_ID = 2**62  # ids beyond this cannot be stored in a 64-bit database column anyway

router = APIRouter(prefix="/api", responses={
    404: {"model": ErrorOut, "description": "Unknown movie, user, profile or genre."},
    413: {"model": ErrorOut, "description": "Request body too large."},
    422: {"model": ErrorOut, "description": "Invalid input."}})
needs_key = [Depends(require_api_key)]  # writes, and profile reads (ids are sequential)
key_errors = {401: {"model": ErrorOut, "description": "Missing or wrong X-API-Key."}}
write_errors = {**key_errors,
                409: {"model": ErrorOut, "description": "The model takes no profiles (its "
                      "preset cannot fold in new people's ratings)."},
                503: {"model": ErrorOut, "description": "The profile database cannot take "
                      "the write now (nothing acknowledged is lost); retry later."}}

K = Annotated[int, Query(ge=1, le=MAX_K, description="How many items.")]
Genre = Annotated[str | None, Query(max_length=50, description="Only movies of this genre.")]
MovieId = Annotated[int, Path(ge=1, le=MAX_ID)]
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
ProfileId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def model(request: Request) -> GuardedRecommender:
    return request.app.state.model


async def profiles(request: Request) -> ProfileService:
    return request.app.state.profiles


Model = Annotated[GuardedRecommender, Depends(model)]
Profiles = Annotated[ProfileService, Depends(profiles)]


@router.get("/health", response_model=Health)
async def health() -> dict:
    return {"status": "ok"}


@router.get("/model", response_model=ModelInfo)
def model_info(request: Request, m: Model, p: Profiles) -> dict:
    low, high = m.rating_range
    return {"preset": m.rec.preset, "ranker": m.ranker, "rater": m.rater,
            "accepts_profiles": m.folds_in, "n_users": int(m.rec.model.n_users),
            "n_movies": len(m.catalog.frame), "rating_min": low, "rating_max": high,
            "genres": m.catalog.genres, "profiles": p.store.count(),
            "write_needs_api_key": request.app.state.settings.api_key is not None,
            "ignored_profile_ratings": p.ignored_ratings,
            "report_url": "/report" if find_report(request.app.state.settings) else None}


@router.get("/movies/search", response_model=list[Movie])
async def search_movies(m: Model, q: Annotated[str, Query(min_length=1, max_length=200)],
                  limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict]:
    """Titles containing every word of `q`; case, accents and punctuation are ignored."""
    return m.catalog.search(q, limit)


@router.get("/movies/{movie_id}", response_model=MovieDetails)
async def movie_details(m: Model, movie_id: MovieId, k: K = 10) -> dict:
    """A movie's metadata and the k most similar movies."""
    return {**m.catalog.details(movie_id), "similar": await m.similar_movies(movie_id, k)}


@router.get("/movies/{movie_id}/similar", response_model=list[ScoredMovie])
async def similar_movies(m: Model, movie_id: MovieId, k: K = 10) -> list[dict]:
    return await m.similar_movies(movie_id, k)


@router.get("/movies/{movie_id}/users", response_model=list[ScoredUser])
def users_for_movie(m: Model, movie_id: MovieId, k: K = 10) -> list[dict]:
    """Training users the ranker scores highest for the movie, who have not rated it."""
    return m.users_for_movie(movie_id, k)


@router.get("/users/{user_id}/recommendations", response_model=list[RecommendedMovie])
async def recommend_for_user(m: Model, user_id: UserId, k: K = 10,
                             genre: Genre = None) -> list[dict]:
    """Top-k movies for a training user, in the ranker's order, with the rater's predicted
    rating when the model has one; movies they rated are excluded."""
    return await m.recommend(user_id, k, genre)


@router.get("/users/{user_id}/predictions/{movie_id}", response_model=Prediction,
            responses={409: {"model": ErrorOut, "description": "The model predicts no "
                             "ratings (it only ranks)."}})
async def predict_rating(m: Model, user_id: UserId, movie_id: MovieId) -> dict:
    return {"user_id": user_id, "movie_id": movie_id,
            "rating": await m.predict(user_id, movie_id)}


@router.post("/profiles", response_model=ProfileWithRecommendations, status_code=201,
             dependencies=needs_key, responses=write_errors)
def create_profile(p: Profiles, body: ProfileIn, k: K = 10) -> dict:
    """A new person: stated tastes and/or a few ratings -> recommendations at once."""
    ratings = {r.movie_id: r.rating for r in body.ratings}
    profile = p.create(body.name, body.preferences.to_preferences(), ratings)
    return _with_recommendations(p, profile, k)


@router.get("/profiles/{profile_id}", response_model=ProfileOut, dependencies=needs_key,
            responses=key_errors)
def get_profile(p: Profiles, profile_id: ProfileId) -> dict:
    return _profile_out(p, p.get(profile_id))


@router.get("/profiles/{profile_id}/recommendations", response_model=list[ProfileRecommendation],
            dependencies=needs_key, responses=key_errors)
def recommend_for_profile(p: Profiles, profile_id: ProfileId, k: K = 10,
                          genre: Genre = None) -> list[dict]:
    """Unrated movies for a profile, each with why ("because you rated ...")."""
    return p.recommend(p.get(profile_id), k, genre)


@router.put("/profiles/{profile_id}/preferences", response_model=ProfileWithRecommendations,
            dependencies=needs_key, responses=write_errors)
def set_preferences(p: Profiles, profile_id: ProfileId, body: PreferencesIn,
                    k: K = 10) -> dict:
    return _with_recommendations(p, p.set_preferences(profile_id, body.to_preferences()), k)


@router.put("/profiles/{profile_id}/ratings/{movie_id}", response_model=ProfileWithRecommendations,
            dependencies=needs_key, responses=write_errors)
def rate_movie(p: Profiles, profile_id: ProfileId, movie_id: MovieId, body: RatingValue,
               k: K = 10) -> dict:
    """Add or change one rating; answers with the updated recommendations."""
    return _with_recommendations(p, p.rate(profile_id, movie_id, body.rating), k)


@router.delete("/profiles/{profile_id}/ratings/{movie_id}",
               response_model=ProfileWithRecommendations, dependencies=needs_key,
               responses=write_errors)
def delete_rating(p: Profiles, profile_id: ProfileId, movie_id: MovieId, k: K = 10) -> dict:
    return _with_recommendations(p, p.unrate(profile_id, movie_id), k)


def _profile_out(p: ProfileService, profile: Profile) -> dict:
    prefs = profile.preferences
    catalog = p.model.catalog
    ratings = [{"movie_id": m, "rating": r, "ignored": m not in catalog,
                "title": catalog.title(m) if m in catalog else f"movie {m}"}
               for m, r in sorted(profile.ratings.items())]
    return {"profile_id": profile.profile_id, "name": profile.name,
            "preferences": PreferencesIn(liked_genres=list(prefs.liked_genres),
                                         disliked_genres=list(prefs.disliked_genres),
                                         year_min=prefs.year_min, year_max=prefs.year_max),
            "ratings": ratings}


def _with_recommendations(p: ProfileService, profile: Profile, k: int) -> dict:
    return {"profile": _profile_out(p, profile), "recommendations": p.recommend(profile, k)}
