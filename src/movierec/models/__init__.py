"""Every model family: torch modules over contiguous user/movie indices, with named parts."""

from movierec.models.autoencoder import KernelLinear, RowAutoencoder
from movierec.models.base import RatingModel, Scorer
from movierec.models.classifier import RatingClassifier
from movierec.models.ease import EASE
from movierec.models.ensemble import BlendedEnsemble
from movierec.models.factorization import MatrixFactorization
from movierec.models.history import HistoryRanker, UserHistory
from movierec.models.mlp import ConcatMLP
from movierec.models.neighbourhood import ItemNeighbourhood
from movierec.models.popularity import Popularity
from movierec.models.presets import PRESETS, Preset, build_model, get_preset, model_from_config
from movierec.models.tower_features import TowerFeatures, encode_tower_features
from movierec.models.towers import IdTower, sigmoid_range
from movierec.models.two_tower import TwoTower

__all__ = [
    "EASE",
    "PRESETS",
    "BlendedEnsemble",
    "ConcatMLP",
    "HistoryRanker",
    "IdTower",
    "ItemNeighbourhood",
    "KernelLinear",
    "MatrixFactorization",
    "Popularity",
    "Preset",
    "RatingClassifier",
    "RatingModel",
    "RowAutoencoder",
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
