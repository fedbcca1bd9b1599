"""`ProfileStore`: profiles and their ratings in a real database, through SQLAlchemy Core.

SQLite (WAL journal, synchronous=FULL, foreign keys on) is the embedded default; a
PostgreSQL URL (`postgresql+psycopg://...`) runs the same statements. Every write is one
transaction that has committed before the call returns, so an acknowledged write survives
a killed process. Opening the store proves it can write (folder there, file writable, one
no-op update), so a bad `--db` stops start-up with one line instead of failing later.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError

from movierec.coldstart import Preferences
from movierec.errors import MovieRecError, UnknownIdError

DIALECTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


class ProfileStoreError(MovieRecError):
    """The profile database cannot be opened or written (bad URL, missing folder,
    read-only file, unreachable server)."""


metadata = MetaData()
profiles = Table(
    "profiles", metadata,
    Column("profile_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, default=""),
    Column("liked_genres", JSON, nullable=False),
    Column("disliked_genres", JSON, nullable=False),
    Column("year_min", Integer),
    Column("year_max", Integer),
    Column("created_at", Float, nullable=False),
)
profile_ratings = Table(
    "profile_ratings", metadata,
    Column("profile_id", Integer, ForeignKey("profiles.profile_id", ondelete="CASCADE"),
           primary_key=True),
    Column("movie_id", BigInteger, primary_key=True),
    Column("rating", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)


@dataclass
class Profile:
    """A stored profile: stated preferences plus ratings {movie_id: rating}."""

    profile_id: int
    name: str
    preferences: Preferences
    ratings: dict[int, float] = field(default_factory=dict)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str | URL) -> Engine:
    """An engine for `url`; SQLite connections get WAL mode and foreign keys."""
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def parse_url(url: str) -> URL:
    """The URL of a supported database; ProfileStoreError (one line) otherwise."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ProfileStoreError("the database URL is not a SQLAlchemy URL; use "
                                "sqlite:///PATH or postgresql+psycopg://...") from None
    if parsed.get_backend_name() not in DIALECTS:
        raise ProfileStoreError(f"database {parsed.get_backend_name()!r} is not supported; "
                                "use a sqlite:// or postgresql+psycopg:// URL")
    return parsed


def check_sqlite_file(url: URL) -> None:
    """A SQLite file's folder must exist and be writable (SQLite writes its WAL beside the
    file), and the file, when there, must be a writable regular file."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") \
            or url.query.get("uri"):
        return
    path = Path(url.database)
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ProfileStoreError(f"database folder {folder} {what}; create it or pass another "
                                "--db")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ProfileStoreError(f"database folder {folder} is not writable")
    if path.exists() and not path.is_file():
        raise ProfileStoreError(f"database {path} is not a file")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise ProfileStoreError(f"database {path} is read-only")


class ProfileStore:
    """Create, read and change profiles and their ratings; tables are created on first use."""

    def __init__(self, url: str) -> None:
        parsed = parse_url(url)
        check_sqlite_file(parsed)
        shown = parsed.render_as_string(hide_password=True)
        try:
            self.engine = make_engine(parsed)
        except (ImportError, ArgumentError) as err:
            raise ProfileStoreError(f"cannot open {shown}: {err}") from None
        try:
            with self.engine.begin() as conn:
                metadata.create_all(conn)
                conn.execute(update(profiles).where(profiles.c.profile_id == -1)
                             .values(name=profiles.c.name))  # a write that changes nothing
        except DatabaseError as err:  # read-only, not a database, unreachable, ...
            self.engine.dispose()
            reason = " ".join(str(err.orig).split())
            raise ProfileStoreError(f"profile database {shown} cannot be written: {reason}") \
                from None
        self._insert = DIALECTS[self.engine.dialect.name]

    def close(self) -> None:
        self.engine.dispose()

    def create(self, name: str, preferences: Preferences, ratings: dict[int, float]) -> Profile:
        """Insert a profile and its first ratings in one transaction."""
        now = time.time()
        with self.engine.begin() as conn:
            profile_id = conn.execute(profiles.insert().values(
                name=name, liked_genres=list(preferences.liked_genres),
                disliked_genres=list(preferences.disliked_genres),
                year_min=preferences.year_min, year_max=preferences.year_max, created_at=now,
            ).returning(profiles.c.profile_id)).scalar_one()
            if ratings:
                conn.execute(profile_ratings.insert(), [
                    {"profile_id": profile_id, "movie_id": m, "rating": r, "updated_at": now}
                    for m, r in ratings.items()])
        return Profile(profile_id, name, preferences, dict(ratings))

    def get(self, profile_id: int) -> Profile:
        """The profile with its ratings; UnknownIdError when there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(select(profiles).where(
                profiles.c.profile_id == profile_id)).mappings().first()
            if row is None:
                raise UnknownIdError(f"profile {profile_id} does not exist")
            rated = conn.execute(select(profile_ratings.c.movie_id, profile_ratings.c.rating)
                                 .where(profile_ratings.c.profile_id == profile_id)).all()
        return _profile(row, {int(m): float(r) for m, r in rated})

    def all(self) -> list[Profile]:
        """Every profile with its ratings, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(profiles).order_by(profiles.c.profile_id)).mappings().all()
            rated = conn.execute(select(profile_ratings)).mappings().all()
        by_profile: dict[int, dict[int, float]] = {}
        for r in rated:
            by_profile.setdefault(r["profile_id"], {})[int(r["movie_id"])] = float(r["rating"])
        return [_profile(row, by_profile.get(row["profile_id"], {})) for row in rows]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(profiles)).scalar_one())

    def set_preferences(self, profile_id: int, preferences: Preferences) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(update(profiles).where(profiles.c.profile_id == profile_id).values(
                liked_genres=list(preferences.liked_genres),
                disliked_genres=list(preferences.disliked_genres),
                year_min=preferences.year_min, year_max=preferences.year_max))
        if done.rowcount == 0:
            raise UnknownIdError(f"profile {profile_id} does not exist")

    def set_rating(self, profile_id: int, movie_id: int, rating: float) -> None:
        """Insert or replace one rating (committed on return)."""
        values = {"profile_id": profile_id, "movie_id": movie_id, "rating": rating,
                  "updated_at": time.time()}
        upsert = self._insert(profile_ratings).values(**values)
        upsert = upsert.on_conflict_do_update(
            index_elements=["profile_id", "movie_id"],
            set_={"rating": upsert.excluded.rating, "updated_at": upsert.excluded.updated_at})
        self._require(profile_id)
        with self.engine.begin() as conn:
            conn.execute(upsert)

    def delete_rating(self, profile_id: int, movie_id: int) -> None:
        """Remove one rating; UnknownIdError when the profile has not rated that movie."""
        with self.engine.begin() as conn:
            done = conn.execute(delete(profile_ratings).where(
                (profile_ratings.c.profile_id == profile_id)
                & (profile_ratings.c.movie_id == movie_id)))
        if done.rowcount == 0:
            raise UnknownIdError(f"profile {profile_id} has no rating for movie {movie_id}")

    def _require(self, profile_id: int) -> None:
        with self.engine.connect() as conn:
            found = conn.execute(select(profiles.c.profile_id).where(
                profiles.c.profile_id == profile_id)).first()
        if found is None:
            raise UnknownIdError(f"profile {profile_id} does not exist")


def _profile(row: object, ratings: dict[int, float]) -> Profile:
    preferences = Preferences(tuple(row["liked_genres"]), tuple(row["disliked_genres"]),
                              row["year_min"], row["year_max"])
    return Profile(int(row["profile_id"]), row["name"], preferences, ratings)
