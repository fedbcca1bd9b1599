"""MovieLensData: one loaded MovieLens variant in the canonical schema."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from movierec.errors import ConfigError, FoldsUnavailableError

Fold = tuple[pd.DataFrame, pd.DataFrame]
FOLD_STEMS: dict[str, tuple[str, ...]] = {
    "u": ("u1", "u2", "u3", "u4", "u5"), "ua": ("ua",), "ub": ("ub",),
}


@dataclass
class MovieLensData:
    """Ratings, movies and (when the variant has them) users, plus where they came from.

    `folds` maps a fold kind ("u", "ua", "ub") to the canonical ml-100k (train, test) pairs
    read from the files; `folds_note` says why they are absent when they are.
    """

    name: str
    ratings: pd.DataFrame
    movies: pd.DataFrame
    users: pd.DataFrame | None
    source: str
    folds: dict[str, list[Fold]] = field(default_factory=dict, repr=False)
    folds_note: str = ""

    def canonical_folds(self, kind: str = "u") -> list[Fold]:
        """The GroupLens ml-100k splits: "u" gives u1..u5 (5 pairs), "ua"/"ub" one pair each."""
        if kind not in FOLD_STEMS:
            raise ConfigError(f"unknown fold kind {kind!r}; choose one of u, ua, ub")
        if kind in self.folds:
            return list(self.folds[kind])
        if self.name != "ml-100k":
            raise FoldsUnavailableError(f"canonical folds exist only for ml-100k, not {self.name}; "
                                        "use kfold_splits() or random_split() instead")
        raise FoldsUnavailableError(self.folds_note or f"ml-100k from {self.source} has no "
                                    f"{kind} folds")

    @property
    def has_canonical_folds(self) -> bool:
        return bool(self.folds)
