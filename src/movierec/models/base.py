"""The model contract, documented once: `Scorer` (every model) and `RatingModel` (the models
that also predict ratings)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from movierec.errors import ConfigError

# Generic scoring evaluates the user x movie grid in blocks of about this many pairs.
_GRID_BLOCK_PAIRS = 1 << 20


class Scorer(nn.Module):
    """Maps user indices to scores over the whole catalogue; indices are contiguous 0..n-1.

    Capability flags say what a model can do; the facade does the rest (raw ids, seen-movie
    masking, top-k, fold-in, saving) once for all of them:
    - `predicts_ratings`: False for rankers; their `predict` is refused.
    - `ranks`: True for models built to order movies (rankers, retrieval); rating models
      rank by predicted stars, which puts obscure 5-star films first.
    - `training_regime`: how the Trainer fits it: "minibatch" (rating triples), "full_batch"
      (L-BFGS on `matrix_objective`), "closed_form" (fitted by `observe_ratings` alone),
      "self_supervised" (the model's own `training_batches` and `batch_loss`), "members"
      (an ensemble of other presets) or "ranking_members" (a blend of rankers).
    - `fold_in_regime`: how new users join: "train_rows" (their rows train, all else frozen),
      "history" (the model reads their histories; `set_user_histories`) or "none".

    Subclasses store every constructor argument as an attribute of the same name, which is
    what lets `config()` describe the architecture and `model_from_config` rebuild it.
    """

    default_preset: ClassVar[str]
    training_regime: ClassVar[str] = "minibatch"
    fold_in_regime: ClassVar[str] = "train_rows"
    predicts_ratings: ClassVar[bool] = True
    ranks: ClassVar[bool] = False
    # the most memory fitting holds at once, in bytes per (movie, movie) pair: 0 for models
    # whose memory grows with the movies, not with their square
    fit_bytes_per_movie_pair: ClassVar[float] = 0.0

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0)) -> None:
        super().__init__()
        self.n_users = int(n_users)
        self.n_movies = int(n_movies)
        self.rating_range = (float(rating_range[0]), float(rating_range[1]))
        self.preset = self.default_preset

    @classmethod
    def fit_memory(cls, n_movies: int, options: Mapping[str, Any]) -> float:
        """About the most memory a fit holds beyond the ratings, in bytes, for `options`
        (the preset's defaults with the caller's on top); 0 when it is not a concern."""
        return cls.fit_bytes_per_movie_pair * n_movies**2

    @property
    def supports_fold_in(self) -> bool:
        return self.fold_in_regime != "none"

    # --- scoring -------------------------------------------------------------------------
    def score(self, users: torch.Tensor) -> torch.Tensor:
        """[len(users), n_movies] scores, larger = better (seen movies not excluded)."""
        raise NotImplementedError

    def predict(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """Predicted ratings [B]; only models with `predicts_ratings`."""
        raise ConfigError(f"preset {self.preset!r} ranks movies but does not predict ratings; "
                          "use recommend(), or a rating preset such as 'biased-mf' for stars")

    def roles(self) -> dict[str, str | None]:
        """Which preset orders the lists ("ranker") and which predicts the stars shown beside
        them ("rater"; None when the model predicts no ratings). Composites name members."""
        return {"ranker": self.preset, "rater": self.preset if self.predicts_ratings else None}

    def similar_movie_scores(self, movies: torch.Tensor) -> torch.Tensor:
        """[len(movies), n_movies] similarity of every movie to each of `movies`: cosine of
        the movie vectors."""
        vectors = nn.functional.normalize(self.movie_vectors(), dim=1)
        return vectors[movies] @ vectors.T

    # --- named views ---------------------------------------------------------------------
    def parts(self) -> dict[str, nn.Module]:
        """Named parts ("user", "movie", and "head" where there is one); together they own
        every parameter, so freezing parts by name can freeze anything."""
        raise NotImplementedError

    def user_vectors(self) -> torch.Tensor:
        """[n_users, d]: the embedding that best represents each user."""
        raise ConfigError(f"preset {self.preset!r} has no user vectors")

    def movie_vectors(self) -> torch.Tensor:
        """[n_movies, d]: the embedding that best represents each movie."""
        raise ConfigError(f"preset {self.preset!r} has no movie vectors")

    def add_users(self, n: int) -> None:
        """Append `n` users; existing users' state stays bit-identical."""
        raise NotImplementedError

    # --- training hooks ------------------------------------------------------------------
    def observe_ratings(self, users: torch.Tensor, movies: torch.Tensor,
                        ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        """Keep the ratings the model reads when it scores (autoencoders, rankers over
        histories; closed-form models fit here); a no-op for models whose parameters are
        all they need. `timestamps` (Unix seconds) order histories in time when given."""

    # --- configuration -------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """JSON-serialisable description: preset name plus every constructor argument."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        cfg: dict[str, Any] = {"preset": self.preset}
        for name in names:
            value = getattr(self, name)
            cfg[name] = list(value) if isinstance(value, tuple) else value
        return cfg


class RatingModel(Scorer):
    """Maps (user index, movie index) to a rating-scale output: the models that predict
    ratings (and rank by them, or, for retrieval models such as two-tower, by their scores)."""

    loss_name: str = "mse"

    # --- scoring -------------------------------------------------------------------------
    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """Raw output the model's loss consumes: [B] for regressors, [B, n_classes] logits."""
        raise NotImplementedError

    def ratings_from_output(self, output: torch.Tensor) -> torch.Tensor:
        """Turn `forward` output into ratings on the rating scale (identity for MSE models)."""
        return output

    def predict(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """Predicted ratings [B], clamped to `rating_range`."""
        low, high = self.rating_range
        return self.ratings_from_output(self(users, movies)).clamp(low, high)

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """Predicted ratings [U, n_movies] for every movie; generic blockwise grid predict."""
        movies = torch.arange(self.n_movies, device=users.device)
        rows_per_block = max(1, _GRID_BLOCK_PAIRS // max(1, self.n_movies))
        blocks = []
        for block in users.split(rows_per_block):
            grid_users = block.repeat_interleave(self.n_movies)
            grid_movies = movies.repeat(len(block))
            blocks.append(self.predict(grid_users, grid_movies).view(len(block), self.n_movies))
        return torch.cat(blocks) if blocks else torch.empty(0, self.n_movies)

    # --- named views ---------------------------------------------------------------------
    def user_tables(self) -> list[nn.Embedding]:
        """Every table indexed by user (embeddings and biases): what fold-in trains."""
        raise NotImplementedError

    def add_users(self, n: int) -> None:
        """Append `n` rows to every user table; existing rows stay bit-identical.

        New embedding rows start at the mean user vector (an average user), biases at zero.
        """
        if n < 0:
            raise ValueError(f"add_users needs n >= 0, got {n}")
        for table in self.user_tables():
            old = table.weight.detach()
            if table.embedding_dim == 1:  # a bias column
                new_rows = old.new_zeros((n, 1))
            else:
                new_rows = old.mean(dim=0, keepdim=True).expand(n, -1)
            table.weight = nn.Parameter(torch.cat([old, new_rows]),
                                        requires_grad=table.weight.requires_grad)
            table.num_embeddings += n
        self.n_users += n

    # --- training hooks ------------------------------------------------------------------
    def penalty(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """Scalar regularisation for a batch, added to the task loss (0 by default)."""
        return torch.zeros((), device=users.device)
