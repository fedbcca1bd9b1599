"""`MovieCatalog`: the movies a model knows, with title search, genres and popularity."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from movierec.errors import UnknownIdError
from movierec.recommender import Recommender

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold_text(text: str) -> str:
    """Lower case, accents removed, punctuation as single spaces: 'Misérables, Les' ->
    'miserables les'."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return _NOT_WORD.sub(" ", plain).strip()


class MovieCatalog:
    """Movie metadata (movie_id, title, year, genres, ratings count) for the model's movies."""

    def __init__(self, rec: Recommender) -> None:
        ids = rec.movie_ids.ids
        if rec.movies is not None:
            movies = rec.movies.reindex(ids).reset_index(drop=True)
            movies["movie_id"] = ids
        else:
            movies = pd.DataFrame({"movie_id": ids, "title": None, "year": None, "genres": None})
        movies["title"] = movies["title"].fillna(pd.Series(ids).map(lambda m: f"movie {m}"))
        movies["genres"] = [list(g) if g is not None and len(g) else [] for g in movies["genres"]]
        popularity = rec.popular(len(ids)).set_index("movie_id")["score"]
        movies["n_ratings"] = popularity.reindex(ids).fillna(0).astype(np.int64).to_numpy()
        self.frame = movies.set_index("movie_id", drop=False)
        self.popularity = popularity
        self.genres = sorted({g for gs in movies["genres"] for g in gs})
        self._titles = dict(zip(movies["movie_id"].tolist(), movies["title"].tolist(),
                                strict=True))
        self._keys = movies["title"].map(fold_text).to_numpy(dtype=object)
        self._genre_rows = {g: np.array([g in gs for gs in movies["genres"]], dtype=bool)
                            for g in self.genres}
        self._details = [_details(row) for row in movies.itertuples(index=False)]
        self._row = {int(m): i for i, m in enumerate(ids)}

    def __contains__(self, movie_id: object) -> bool:
        return movie_id in self._row

    def row(self, movie_id: int) -> int:
        """The movie's position in the model's movie tables; UnknownIdError if unknown."""
        row = self._row.get(movie_id)
        if row is None:
            raise UnknownIdError(f"movie {movie_id} is not known to the model")
        return row

    def require(self, movie_id: int) -> None:
        self.row(movie_id)

    def details(self, movie_id: int) -> dict[str, object]:
        """movie_id, title, year (or None), genres and number of training ratings."""
        return self.details_at(self.row(movie_id))

    def details_at(self, row: int) -> dict[str, object]:
        """`details` of the movie at a model row (a fresh dict the caller may extend)."""
        found = self._details[row]
        return {**found, "genres": list(found["genres"])}

    def title(self, movie_id: int) -> str:
        return self._titles[movie_id]

    def genre_rows(self, genre: str) -> np.ndarray:
        """Boolean mask over model rows of one genre's movies; UnknownIdError naming the
        known genres otherwise."""
        if genre not in self._genre_rows:
            raise UnknownIdError(f"unknown genre {genre!r}; known genres: "
                                 f"{', '.join(self.genres)}")
        return self._genre_rows[genre]

    def search(self, query: str, limit: int = 20) -> list[dict[str, object]]:
        """Movies whose title contains every word of the query (case-, accent- and
        punctuation-insensitive, partial words allowed), most-rated first, prefix matches
        before others."""
        words = fold_text(query).split()
        if not words:
            return []
        hit = np.ones(len(self._keys), dtype=bool)
        for word in words:
            hit &= np.fromiter((word in key for key in self._keys), bool, len(self._keys))
        rows = np.flatnonzero(hit)
        prefix = np.array([self._keys[r].startswith(words[0]) for r in rows], dtype=bool)
        counts = self.frame["n_ratings"].to_numpy()[rows]
        order = np.lexsort((-counts, ~prefix))[:limit]
        return [self.details_at(int(rows[i])) for i in order]


def _details(movie: object) -> dict[str, object]:
    year = movie.year
    return {"movie_id": int(movie.movie_id), "title": str(movie.title),
            "year": None if pd.isna(year) else int(year), "genres": tuple(movie.genres),
            "n_ratings": int(movie.n_ratings)}
