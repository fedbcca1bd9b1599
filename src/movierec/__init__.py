"""movierec: neural movie recommenders on MovieLens — train fast, evaluate honestly, serve."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["Recommender", "__version__"]

if TYPE_CHECKING:
    from movierec.recommender import Recommender


def __getattr__(name: str) -> object:
    """Import the facade on first use, so `import movierec.data` stays light."""
    if name == "Recommender":
        from movierec.recommender import Recommender

        return Recommender
    raise AttributeError(f"module 'movierec' has no attribute {name!r}")
