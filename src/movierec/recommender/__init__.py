"""The Recommender facade and its saved-folder format."""

from movierec.recommender.recommender import Recommender

__all__ = ["Recommender"]
