"""Implicit-feedback recommenders scored over the full catalogue (popularity, EASE, iALS, BPR)."""

from movierec.topk.baselines import EASE, ImplicitALS, ImplicitBPR, Popularity, TopKModel
from movierec.topk.interactions import Interactions, interactions_from_ratings

__all__ = [
    "EASE",
    "ImplicitALS",
    "ImplicitBPR",
    "Interactions",
    "Popularity",
    "TopKModel",
    "interactions_from_ratings",
]
