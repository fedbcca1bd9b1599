"""Writers of small MovieLens-format files (generated data, never real MovieLens)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from movierec.data import kfold_splits, make_synthetic_ratings

GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
          "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
          "Romance", "Sci-Fi", "Thriller", "War", "Western"]

# (raw title, release date, genres, expected title, expected year)
ITEMS_100K = [
    ("Toy Story (1995)", "01-Jan-1995", ["Animation", "Children's", "Comedy"], "Toy Story", 1995),
    ("Shawshank Redemption, The (1994)", "01-Jan-1994", ["Drama"],
     "Shawshank Redemption, The", 1994),
    ("unknown", "", ["unknown"], "unknown", None),
    ("Heidi Fleiss: Hollywood Madam (1995) ", "09-Feb-1996", ["Documentary"],
     "Heidi Fleiss: Hollywood Madam", 1995),
    ("Land Before Time III (1995) (V)", "01-Jan-1995", ["Animation"],
     "Land Before Time III (V)", 1995),
    ("Café au lait", "01-Jan-1996", ["Comedy", "Sci-Fi"], "Café au lait", 1996),
    ("", "", [], "", None),
    ("Film Noir Thing (1947)", "01-Jan-1947", ["Film-Noir", "Mystery"], "Film Noir Thing", 1947),
]


def small_ratings(n_users: int = 12, n_ratings: int = 60, half: bool = False) -> pd.DataFrame:
    r = make_synthetic_ratings(n_users, len(ITEMS_100K), n_ratings, dim=2, seed=1)
    if half:
        r["rating"] = (r["rating"] - 0.5).clip(0.5, 5).astype("float32")
    return r


def rating_lines(r: pd.DataFrame, sep: str = "\t") -> str:
    rating = [f"{x:g}" for x in r["rating"]]
    return "".join(f"{u}{sep}{m}{sep}{x}{sep}{t}\n" for u, m, x, t in
                   zip(r["user_id"], r["movie_id"], rating, r["timestamp"], strict=True))


def write_100k(root: Path, ratings: pd.DataFrame | None = None, folds: bool = True) -> Path:
    """An ml-100k folder (u.data, u.item, u.genre, u.user, u1..u5, ua, ub) under root."""
    root.mkdir(parents=True, exist_ok=True)
    r = small_ratings() if ratings is None else ratings
    (root / "u.data").write_text(rating_lines(r))
    items = []
    for i, (title, date, genres, _, _) in enumerate(ITEMS_100K, 1):
        flags = "|".join("1" if g in genres else "0" for g in GENRES)
        items.append(f"{i}|{title}|{date}||http://x/{i}|{flags}\n")
    (root / "u.item").write_bytes("".join(items).encode("latin-1"))
    (root / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)) + "\n")
    users = sorted(set(r["user_id"]))
    (root / "u.user").write_text("".join(f"{u}|{20 + u}|{'MF'[u % 2]}|writer|0{u}123\n"
                                         for u in users))
    if folds:
        for i, (train, test) in enumerate(kfold_splits(r, 5, seed=3), 1):
            (root / f"u{i}.base").write_text(rating_lines(train))
            (root / f"u{i}.test").write_text(rating_lines(test))
        for kind, seed in (("ua", 4), ("ub", 5)):
            train, test = kfold_splits(r, 10, seed=seed)[0]
            (root / f"{kind}.base").write_text(rating_lines(train))
            (root / f"{kind}.test").write_text(rating_lines(test))
    return root


def zip_folder(folder: Path, zip_path: Path, top: str) -> Path:
    """Zip `folder` with members under `top/`, as GroupLens does."""
    with zipfile.ZipFile(zip_path, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"{top}/{f.name}")
    return zip_path


def write_csv_variant(root: Path, ratings: pd.DataFrame | None = None) -> Path:
    """An ml-latest-small style folder (utf-8, CRLF, quoted titles)."""
    root.mkdir(parents=True, exist_ok=True)
    r = small_ratings(half=True) if ratings is None else ratings
    (root / "ratings.csv").write_bytes(
        ("userId,movieId,rating,timestamp\n" + rating_lines(r, ",")).replace("\n", "\r\n")
        .encode())
    movies = [
        '1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy',
        '2,"American President, The (1995)",Comedy|Drama|Romance',
        '3,From Dusk Till Dawn 2: Texas Blood Money (1999) ,Comedy|Crime|Horror',
        '4,Babylon 5,Sci-Fi',
        '5,Hyena Road,(no genres listed)',
        '6,"Amélie (Fabuleux destin d\'Amélie Poulain, Le) (2001)",Comedy|Romance',
        '7,Some Series (2006–2007),Drama',
        '8,"Quote ""Unquote"" (2010)",Drama',
    ]
    (root / "movies.csv").write_bytes(
        ("movieId,title,genres\r\n" + "\r\n".join(movies) + "\r\n").encode())
    return root


def md5(path: Path) -> str:
    import hashlib
    return hashlib.md5(path.read_bytes()).hexdigest()
