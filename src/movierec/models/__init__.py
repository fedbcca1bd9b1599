"""Every model family: torch modules over contiguous user/movie indices, with named parts."""

from movierec.models.autoencoder import KernelLinear, RowAutoencoder
from movierec.models.base import RatingModel, Scorer
from movierec.models.classifier import RatingClassifier
from movierec.models.denoising import DenoisingAutoencoder
from movierec.models.ease import EASE
from movierec.models.ensemble import BlendedEnsemble
from movierec.models.factorization import MatrixFactorization
from movierec.models.history import HistoryRanker, UserHistory
from movierec.models.implicit_mf import ImplicitALS, ImplicitBPR, ImplicitFactors
from movierec.models.item2vec import Item2Vec
from movierec.models.mlp import ConcatMLP
from movierec.models.neighbourhood import ItemNeighbourhood
from movierec.models.popularity import Popularity
from movierec.models.presets import (
    DEFAULT_PRESET,
    PRESETS,
    Preset,
    build_model,
    get_preset,
    model_from_config,
)
from movierec.models.ranking_blend import RankingBlend
from movierec.models.retrieve_rank import RetrieveThenRank
from movierec.models.sequential import SASRec
from movierec.models.tower_features import TowerFeatures, encode_tower_features
from movierec.models.towers import IdTower, sigmoid_range
from movierec.models.two_tower import TwoTower

__all__ = [
    "DEFAULT_PRESET",
    "EASE",
    "PRESETS",
    "BlendedEnsemble",
    "ConcatMLP",
    "DenoisingAutoencoder",
    "HistoryRanker",
    "IdTower",
    "ImplicitALS",
    "ImplicitBPR",
    "ImplicitFactors",
    "Item2Vec",
    "ItemNeighbourhood",
    "KernelLinear",
    "MatrixFactorization",
    "Popularity",
    "Preset",
    "RankingBlend",
    "RatingClassifier",
    "RatingModel",
    "RetrieveThenRank",
    "RowAutoencoder",
    "SASRec",
    "Scorer",
    "TowerFeatures",
    "TwoTower",
    "UserHistory",
    "build_model",
    "encode_tower_features",
    "get_preset",
    "model_from_config",
    "sigmoid_range",
]
