"""Parsing every supported layout into the canonical schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from mlfiles import (
    ITEMS_100K,
    rating_lines,
    small_ratings,
    write_100k,
    write_csv_variant,
    zip_folder,
)

from movierec.data import kfold_splits, parse_folder
from movierec.errors import ConfigError, DataFormatError, FoldsUnavailableError

RATING_DTYPES = {"user_id": "int64", "movie_id": "int64", "rating": "float32",
                 "timestamp": "int64"}


def assert_canonical(data) -> None:
    assert {c: str(t) for c, t in data.ratings.dtypes.items()} == RATING_DTYPES
    assert list(data.movies.columns) == ["movie_id", "title", "year", "genres"]
    assert str(data.movies["year"].dtype) == "Int64"
    assert data.movies["movie_id"].dtype == np.int64
    assert all(isinstance(g, list) for g in data.movies["genres"])
    if data.users is not None:
        assert list(data.users.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
        assert data.users["age"].dtype == np.int64


def sort(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["user_id", "movie_id"]).reset_index(drop=True)


def test_ml100k_folder(tmp_path):
    r = small_ratings()
    data = parse_folder("ml-100k", write_100k(tmp_path / "ml-100k", r))
    assert_canonical(data)
    pdt.assert_frame_equal(data.ratings, r)
    movies = data.movies.set_index("movie_id")
    for i, (_, _, genres, title, year) in enumerate(ITEMS_100K, 1):
        assert movies.loc[i, "title"] == title
        assert (pd.isna(movies.loc[i, "year"]) if year is None else movies.loc[i, "year"] == year)
        assert movies.loc[i, "genres"] == genres
    assert data.users["gender"].tolist()[:2] == ["F", "M"]
    assert data.users["zip_code"].iloc[0] == "01123"
    assert data.has_canonical_folds and data.source.startswith("path ")
    folds = data.canonical_folds("u")
    assert len(folds) == 5 and len(data.canonical_folds("ua")) == 1
    for (train, test), (etrain, etest) in zip(folds, kfold_splits(r, 5, seed=3), strict=True):
        pdt.assert_frame_equal(train, etrain)
        pdt.assert_frame_equal(test, etest)


def test_ml100k_zip_equals_folder(tmp_path):
    folder = write_100k(tmp_path / "src")
    a = parse_folder("ml-100k", folder)
    b = parse_folder("ml-100k", zip_folder(folder, tmp_path / "ml-100k.zip", "ml-100k"))
    pdt.assert_frame_equal(a.ratings, b.ratings)
    pdt.assert_frame_equal(a.movies, b.movies)
    assert "ml-100k.zip:ml-100k/" in b.source
    pdt.assert_frame_equal(a.canonical_folds()[4][1], b.canonical_folds()[4][1])


def test_ml100k_without_folds_says_which_files_lack(tmp_path):
    data = parse_folder("ml-100k", write_100k(tmp_path / "d", folds=False))
    assert not data.has_canonical_folds
    with pytest.raises(FoldsUnavailableError, match=r"u1\.base"):
        data.canonical_folds()
    with pytest.raises(ConfigError):
        data.canonical_folds("u9")


def test_recbole_atomic_layout(tmp_path):
    r = small_ratings()
    d = tmp_path / "rb"
    d.mkdir()
    (d / "ml-100k.inter").write_text("user_id:token\titem_id:token\trating:float\t"
                                     "timestamp:float\n" + rating_lines(r))
    (d / "ml-100k.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        "1\tToy Story\t1995\tAnimation Children's Comedy\n"
        "2\tNoir, The\t1947\tFilm-Noir Sci-Fi\n3\tunkonwn\tunkonwn\tunknown\n", encoding="utf-8")
    (d / "ml-100k.user").write_text("user_id:token\tage:token\tgender:token\toccupation:token\t"
                                    "zip_code:token\n1\t24\tM\ttechnician\t85711\n")
    data = parse_folder("ml-100k", d)
    assert_canonical(data)
    pdt.assert_frame_equal(data.ratings, r)
    assert data.movies["genres"].tolist() == [["Animation", "Children's", "Comedy"],
                                              ["Film-Noir", "Sci-Fi"], ["unknown"]]
    assert data.movies["year"].tolist()[:2] == [1995, 1947] and pd.isna(data.movies["year"][2])
    assert data.users["occupation"].tolist() == ["technician"]
    with pytest.raises(FoldsUnavailableError, match="atomic format"):
        data.canonical_folds()


def test_ml1m_dat_layout(tmp_path):
    r = small_ratings()
    d = tmp_path / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text(rating_lines(r, "::"))
    (d / "movies.dat").write_bytes("1::Toy Story (1995)::Animation|Children's|Comedy\n"
                                   "2::Dracula: Dead and Loving It (1995)::Comedy|Horror\n"
                                   "3::Café, Le (2000)::Drama\n".encode("latin-1"))
    (d / "users.dat").write_text("1::F::1::10::48067\n2::M::56::0::70072\n3::M::25::20::55117\n")
    data = parse_folder("ml-1m", d)
    assert_canonical(data)
    pdt.assert_frame_equal(data.ratings, r)
    assert data.movies["title"].tolist() == ["Toy Story", "Dracula: Dead and Loving It",
                                             "Café, Le"]
    assert data.users["occupation"].tolist() == ["K-12 student", "other or not specified",
                                                 "writer"]
    assert data.users["age"].tolist() == [1, 56, 25]
    with pytest.raises(FoldsUnavailableError, match="only for ml-100k"):
        data.canonical_folds()


def test_ml10m_half_stars_without_users(tmp_path):
    r = small_ratings(half=True)
    d = tmp_path / "ml-10M100K"
    d.mkdir()
    (d / "ratings.dat").write_text(rating_lines(r, "::"))
    (d / "movies.dat").write_text("1::Toy Story (1995)::Animation\n"
                                  "2::X (2001)::(no genres listed)\n")
    data = parse_folder("ml-10m", zip_folder(d, tmp_path / "ml-10m.zip", "ml-10M100K"))
    pdt.assert_frame_equal(data.ratings, r)
    assert data.users is None and data.movies["genres"].tolist() == [["Animation"], []]


def test_csv_layout(tmp_path):
    r = small_ratings(half=True)
    data = parse_folder("ml-latest-small", write_csv_variant(tmp_path / "m", r))
    assert_canonical(data)
    pdt.assert_frame_equal(data.ratings, r)
    assert data.users is None
    m = data.movies.set_index("movie_id")
    assert m.loc[2, "title"] == "American President, The" and m.loc[2, "year"] == 1995
    assert m.loc[3, "title"] == "From Dusk Till Dawn 2: Texas Blood Money"
    assert m.loc[3, "year"] == 1999
    assert m.loc[4, "title"] == "Babylon 5" and pd.isna(m.loc[4, "year"])
    assert m.loc[5, "genres"] == []
    assert m.loc[6, "title"] == "Amélie (Fabuleux destin d'Amélie Poulain, Le)"
    assert m.loc[7, "title"] == "Some Series" and m.loc[7, "year"] == 2006
    assert m.loc[8, "title"] == 'Quote "Unquote"'
    assert m.loc[1, "genres"] == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]


@pytest.mark.realdata
def test_real_ml100k(ml100k_dir):
    data = parse_folder("ml-100k", ml100k_dir)
    assert_canonical(data)
    r = data.ratings
    assert (len(r), r["user_id"].nunique(), r["movie_id"].nunique()) == (100000, 943, 1682)
    assert len(data.movies) == 1682 and len(data.users) == 943
    toy = data.movies.set_index("movie_id").loc[1]
    assert (toy["title"], toy["year"]) == ("Toy Story", 1995)
    assert toy["genres"] == ["Animation", "Children's", "Comedy"]
    shawshank = data.movies.set_index("movie_id").loc[64]
    assert (shawshank["title"], shawshank["year"]) == ("Shawshank Redemption, The", 1994)
    folds = data.canonical_folds("u")
    assert [(len(a), len(b)) for a, b in folds] == [(80000, 20000)] * 5
    tests = pd.concat([b for _, b in folds], ignore_index=True)
    assert not tests.duplicated(["user_id", "movie_id"]).any()
    pdt.assert_frame_equal(sort(tests), sort(r))
    for train, test in folds:
        pdt.assert_frame_equal(sort(pd.concat([train, test])), sort(r))
    (ua_train, ua_test), = data.canonical_folds("ua")
    assert (len(ua_train), len(ua_test)) == (90570, 9430)
    assert (ua_test.groupby("user_id").size() == 10).all()


@pytest.mark.realdata
def test_real_ml_latest_small(ml_latest_small_dir):
    data = parse_folder("ml-latest-small", ml_latest_small_dir)
    assert_canonical(data)
    r = data.ratings
    assert (len(r), r["user_id"].nunique(), len(data.movies)) == (100836, 610, 9742)
    assert set(np.unique(r["rating"])) <= set(np.arange(0.5, 5.01, 0.5))
    toy = data.movies.set_index("movie_id").loc[1]
    assert (toy["title"], toy["year"]) == ("Toy Story", 1995)


@pytest.mark.realdata
def test_real_ml1m_without_ratings_names_the_file(ml100k_dir):
    folder = ml100k_dir.parent / "ml-1m"
    if not folder.is_dir() or (folder / "ratings.dat").exists():
        pytest.skip("needs the shared ml-1m folder without ratings.dat")
    with pytest.raises(DataFormatError, match=r"ml-1m has no ratings\.dat"):
        parse_folder("ml-1m", folder)
