"""Rating models: torch modules over contiguous user/movie indices, with named parts."""

from movierec.models.autoencoder import KernelLinear, RowAutoencoder
from movierec.models.base import RatingModel
from movierec.models.classifier import RatingClassifier
from movierec.models.ensemble import BlendedEnsemble
from movierec.models.factorization import MatrixFactorization
from movierec.models.mlp import ConcatMLP
from movierec.models.neighbourhood import ItemNeighbourhood
from movierec.models.presets import PRESETS, Preset, build_model, get_preset, model_from_config
from movierec.models.tower_features import TowerFeatures, encode_tower_features
from movierec.models.towers import IdTower, sigmoid_range
from movierec.models.two_tower import TwoTower

__all__ = [
    "PRESETS",
    "BlendedEnsemble",
    "ConcatMLP",
    "IdTower",
    "ItemNeighbourhood",
    "KernelLinear",
    "MatrixFactorization",
    "Preset",
    "RatingClassifier",
    "RatingModel",
    "RowAutoencoder",
    "TowerFeatures",
    "TwoTower",
    "build_model",
    "encode_tower_features",
    "get_preset",
    "model_from_config",
    "sigmoid_range",
]
