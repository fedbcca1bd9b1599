"""MovieLens data: loading (path, cache, GroupLens, mirror), canonical schema, ids and splits."""

from movierec.data.dataset import MovieLensData
from movierec.data.idmap import IdMap
from movierec.data.loader import default_cache_dir, load_movielens
from movierec.data.parsers import parse_folder
from movierec.data.schema import raw_ids, validate_ratings
from movierec.data.seen import SeenMovies
from movierec.data.splits import kfold_splits, leave_last_out, random_split, temporal_holdout
from movierec.data.synthetic import make_synthetic_ratings
from movierec.data.top_k import top_k_unseen
from movierec.data.variants import VARIANTS, movielens_scale

__all__ = [
    "VARIANTS",
    "IdMap",
    "MovieLensData",
    "SeenMovies",
    "default_cache_dir",
    "kfold_splits",
    "leave_last_out",
    "load_movielens",
    "make_synthetic_ratings",
    "movielens_scale",
    "parse_folder",
    "random_split",
    "raw_ids",
    "temporal_holdout",
    "top_k_unseen",
    "validate_ratings",
]
