"""Find a movie by id or by (part of) its title."""

from __future__ import annotations

from movierec.errors import UnknownIdError
from movierec.recommender import Recommender


def find_movie(rec: Recommender, query: str) -> tuple[int, str]:
    """Exact id, else exact title, else the most-rated title containing the query."""
    if rec.movies is None:
        raise UnknownIdError("this model was saved without movie titles; pass a movie id")
    movies = rec.movies[rec.movies["movie_id"].isin(rec.movie_ids.ids)]
    if query.isdigit() and int(query) in rec.movie_ids:
        return int(query), str(rec.movies.loc[int(query), "title"])
    titles = movies["title"].str.casefold()
    exact = movies[titles == query.casefold()]
    matches = exact if len(exact) else movies[titles.str.contains(query.casefold(), regex=False)]
    if matches.empty:
        raise UnknownIdError(f"no movie title contains {query!r}; try a shorter part of the title")
    counts = rec.seen.matrix.sum(axis=0).A1
    popularity = counts[rec.movie_ids.to_index(matches["movie_id"].to_numpy())]
    best = matches.iloc[int(popularity.argmax())]
    return int(best["movie_id"]), str(best["title"])
