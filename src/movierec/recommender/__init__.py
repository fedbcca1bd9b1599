"""The Recommender facade and its saved-folder format."""

from movierec.recommender.recommender import Recommender
from movierec.recommender.seen import SeenMovies

__all__ = ["Recommender", "SeenMovies"]
