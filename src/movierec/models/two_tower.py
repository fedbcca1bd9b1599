"""Two-tower retrieval: a user tower and a movie tower map ids (plus optional features) to
equal-size unit vectors; their dot product (over a temperature) scores a pair. Trained with
in-batch softmax, optionally mixed with negatives sampled uniformly from the catalogue."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.base import RatingModel
from movierec.models.tower_features import TowerFeatures


class Tower(nn.Module):
    """[id embedding | category-field embeddings | mean tag embedding | mean history
    embedding] -> dense layers -> L2-normalised vector.

    The feature values live in buffers (saved with the weights), so the tower needs only an
    index at scoring time. `history_size > 0` adds the mean embedding of the movies each row
    interacted with (user towers: the user's rated movies).
    """

    def __init__(self, n: int, dim: int, hidden: tuple[int, ...], out_dim: int, *,
                 field_sizes: tuple[int, ...] = (), n_tags: int = 0,
                 history_size: int = 0) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n, dim)
        nn.init.normal_(self.embedding.weight, std=0.1)
        self.fields = nn.ModuleList(nn.Embedding(size, dim) for size in field_sizes)
        self.register_buffer("codes", torch.zeros(n, len(field_sizes), dtype=torch.long))
        self.tags = nn.Linear(n_tags, dim, bias=False) if n_tags else None
        self.register_buffer("tag_matrix", torch.zeros(n, n_tags))
        self.history = nn.EmbeddingBag(history_size, dim, mode="sum") if history_size else None
        self.register_buffer("history_indptr", torch.zeros(n + 1, dtype=torch.long))
        self.register_buffer("history_items", torch.zeros(0, dtype=torch.long))
        width = dim * (1 + len(field_sizes) + (self.tags is not None)
                       + (self.history is not None))
        layers: list[nn.Module] = []
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, out_dim))
        self.dense = nn.Sequential(*layers)

    def set_history(self, rows: torch.Tensor, items: torch.Tensor) -> None:
        """Store each row's interacted items (duplicates dropped) as a CSR."""
        n, n_items = len(self.history_indptr) - 1, self.history.num_embeddings
        pairs = torch.unique(rows * n_items + items)  # sorted by row, then item
        rows, items = pairs // n_items, pairs % n_items
        self.history_indptr = torch.cat([rows.new_zeros(1),
                                         torch.bincount(rows, minlength=n).cumsum(0)])
        self.history_items = items

    def replace_history(self, rows: torch.Tensor, items: torch.Tensor) -> None:
        """The rows in `rows` (one per item) now hold exactly these items; the others keep
        theirs."""
        device = self.history_indptr.device
        rows, items = rows.to(device), items.to(device)
        owners = torch.repeat_interleave(torch.arange(len(self.history_indptr) - 1,
                                                      device=device), self.history_indptr.diff())
        keep = ~torch.isin(owners, rows)
        self.set_history(torch.cat([owners[keep], rows]),
                         torch.cat([self.history_items[keep], items]))

    def add_rows(self, n: int) -> None:
        """Append `n` rows: id embedding at the mean row (an average user or movie), unknown
        features (code 0, no tags) and an empty history; existing rows score as before.

        A field's unknown code that no existing row holds was never trained (its embedding is
        still random) and changes no existing row's vector: it becomes the frequency-weighted
        mean of the field's embeddings. On ml-100k (10% of users folded in, 80/20 split),
        those users ranked at NDCG@10 0.229 with random unknown-code embeddings, below
        popularity (0.249); 0.370 with the mean (0.410 when trained). Id rows at zero instead
        of the mean: 0.3696 vs 0.3702."""
        for field, table in enumerate(self.fields):
            counts = torch.bincount(self.codes[:, field], minlength=table.num_embeddings)
            if counts[0] == 0 and counts.sum() > 0:
                with torch.no_grad():
                    table.weight[0] = counts.to(table.weight.dtype) @ table.weight / counts.sum()
        old = self.embedding.weight
        start = old.detach().mean(dim=0, keepdim=True).expand(n, -1)
        self.embedding.weight = nn.Parameter(torch.cat([old.detach(), start]),
                                             requires_grad=old.requires_grad)
        self.embedding.num_embeddings += n
        self.codes = torch.cat([self.codes, self.codes.new_zeros((n, self.codes.shape[1]))])
        self.tag_matrix = torch.cat([self.tag_matrix,
                                     self.tag_matrix.new_zeros((n, self.tag_matrix.shape[1]))])
        self.history_indptr = torch.cat([self.history_indptr, self.history_indptr[-1:].expand(n)])

    def _history_mean(self, index: torch.Tensor, leave_out: torch.Tensor | None) -> torch.Tensor:
        """Mean history embedding per row; `leave_out` drops one item from each row's mean
        (its training positive, so the tower cannot learn to copy its own input)."""
        starts, ends = self.history_indptr[index], self.history_indptr[index + 1]
        lengths = ends - starts
        offsets = torch.cumsum(lengths, 0) - lengths
        gather = (torch.arange(int(lengths.sum()), device=index.device)
                  - torch.repeat_interleave(offsets - starts, lengths))
        total = self.history(self.history_items[gather], offsets)
        count = lengths.to(total.dtype)
        if leave_out is not None:
            total = total - self.history.weight[leave_out] * (lengths > 0)[:, None]
            count = (count - 1).clamp(min=0)
        return total / count.clamp(min=1)[:, None]

    def forward(self, index: torch.Tensor, leave_out: torch.Tensor | None = None
                ) -> torch.Tensor:
        inputs = [self.embedding(index)]
        codes = self.codes[index]
        inputs += [table(codes[:, i]) for i, table in enumerate(self.fields)]
        if self.tags is not None:
            tags = self.tag_matrix[index]
            inputs.append(self.tags(tags) / tags.sum(1, keepdim=True).clamp(min=1))
        if self.history is not None:
            inputs.append(self._history_mean(index, leave_out))
        return nn.functional.normalize(self.dense(torch.cat(inputs, dim=1)), dim=-1)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str,
                              *args: Any, **kwargs: Any) -> None:
        # the history's length depends on the data: take the saved size before copying
        key = prefix + "history_items"
        if key in state_dict:
            self.history_items = torch.empty_like(state_dict[key])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class TwoTower(RatingModel):
    """TFRS retrieval tutorial shape, with the fixes it leaves out: L2-normalised towers,
    a temperature, and the sampling-bias (logQ) correction of Yi et al. (RecSys 2019); plus
    optional features and mixed negatives (Yang et al., WWW 2020 "mixed negative sampling").

    Features: the movie tower reads genres (`genres` = number of genre columns) and release
    year (`year_buckets`); the user tower reads demographic category fields (`user_fields` =
    each field's size) and, with `history=True`, the mean embedding of the movies the user
    rated (the training positive left out of its own mean). Feature values are data: the
    facade encodes them (`set_features`) and `observe_ratings` stores the history.

    `mixed_negatives=M` adds M movies drawn uniformly from the whole catalogue to every
    batch's candidates, so rarely rated movies are pushed down too; the logQ correction then
    uses the mixture's inclusion rate, B * share + M / n_movies.

    `forward(users, movies)` returns the [B, B + M] logit matrix that `InBatchSoftmaxTask`
    trains on (positives on the diagonal); `score` and `predict` return cosines: this model
    ranks, it predicts no stars.

    Fold-in: a new user's id embedding starts at the mean user row, their demographics are
    unknown, and their history feeds the tower; nothing trains (built with `history=False`,
    every new user is that average user).
    """

    default_preset = "two-tower"
    loss_name = "in_batch_softmax"
    fold_in_regime: ClassVar[str] = "history"
    predicts_ratings: ClassVar[bool] = False
    ranks: ClassVar[bool] = True
    uses_side_features: ClassVar[bool] = True

    def __init__(self, n_users: int, n_movies: int, rating_range: tuple[float, float] = (1.0, 5.0),
                 dim: int = 64, hidden: tuple[int, ...] = (128,), out_dim: int = 64,
                 temperature: float = 0.05, genres: int = 0, year_buckets: int = 0,
                 user_fields: tuple[int, ...] = (), history: bool = False,
                 mixed_negatives: int = 0) -> None:
        super().__init__(n_users, n_movies, rating_range)
        if temperature <= 0 or mixed_negatives < 0:
            raise ConfigError(f"two-tower needs temperature > 0 and mixed_negatives >= 0; got "
                              f"{temperature} and {mixed_negatives}")
        self.dim, self.hidden, self.out_dim = dim, tuple(hidden), out_dim
        self.temperature = float(temperature)
        self.genres, self.year_buckets = int(genres), int(year_buckets)
        self.user_fields = tuple(int(size) for size in user_fields)
        self.history, self.mixed_negatives = bool(history), int(mixed_negatives)
        self.user = Tower(n_users, dim, self.hidden, out_dim, field_sizes=self.user_fields,
                          history_size=n_movies if self.history else 0)
        self.movie = Tower(n_movies, dim, self.hidden, out_dim, n_tags=self.genres,
                           field_sizes=(self.year_buckets,) if self.year_buckets else ())
        self.register_buffer("log_q", torch.zeros(n_movies))

    # --- data the towers read ------------------------------------------------------------
    def set_features(self, features: TowerFeatures) -> None:
        """Copy encoded features into the towers; a feature the model was built without
        (size 0) is ignored, a size mismatch is a ConfigError."""
        if self.genres:
            self._copy(self.movie.tag_matrix, features.genres, "genres")
        if self.year_buckets:
            self._copy(self.movie.codes, None if features.years is None
                       else features.years[:, None], "year")
        if self.user_fields:
            if features.user_field_sizes != self.user_fields:
                raise ConfigError(f"user feature sizes {features.user_field_sizes} differ from "
                                  f"the model's user_fields {self.user_fields}")
            self._copy(self.user.codes, features.user_codes, "user features")

    @staticmethod
    def _copy(target: torch.Tensor, source: torch.Tensor | None, name: str) -> None:
        if source is None or source.shape != target.shape:
            got = None if source is None else tuple(source.shape)
            raise ConfigError(f"{name}: the model expects shape {tuple(target.shape)}, the "
                              f"features have {got}; build the model from these features")
        target.copy_(source)

    def observe_ratings(self, users: torch.Tensor, movies: torch.Tensor,
                        ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        """Interactions define the in-batch sampling rates (logQ) and each user's history."""
        self.set_sampling_probabilities(torch.bincount(movies, minlength=self.n_movies))
        if self.history:
            self.user.set_history(users.to(self.log_q.device), movies.to(self.log_q.device))

    def set_sampling_probabilities(self, movie_counts: torch.Tensor) -> None:
        """log Q(movie): how often a movie appears as an in-batch candidate (its share of
        training interactions); subtracted from logits so popular movies are not
        over-penalised as negatives."""
        share = movie_counts.float().clamp(min=1) / movie_counts.sum().clamp(min=1)
        self.log_q.copy_(share.log())

    # --- scoring -------------------------------------------------------------------------
    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        candidates = movies
        if self.mixed_negatives and self.training:
            sampled = torch.randint(0, self.n_movies, (self.mixed_negatives,),
                                    device=movies.device)
            candidates = torch.cat([movies, sampled])
        query = self.user(users, leave_out=movies if self.history else None)
        logits = query @ self.movie(candidates).T / self.temperature
        logits = logits - self._log_inclusion(candidates, len(movies))[None, :]
        same = movies[:, None] == candidates[None, :]  # a duplicate is not a negative
        same[:, :len(movies)].fill_diagonal_(False)
        return logits.masked_fill(same, -torch.inf)

    def _log_inclusion(self, candidates: torch.Tensor, batch: int) -> torch.Tensor:
        """log of each candidate's expected inclusion count per batch (up to a constant)."""
        if len(candidates) == batch:
            return self.log_q[candidates]
        uniform = (len(candidates) - batch) / self.n_movies
        return torch.log(batch * self.log_q[candidates].exp() + uniform)

    def predict(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """Cosine of each (user, movie) pair, the pair form of `score` (the export's scoring
        graph reads it): not a rating, so the facade refuses `predict` for this model."""
        return (self.user(users) * self.movie(movies)).sum(dim=-1)

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.user(users) @ self.movie_vectors().T

    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.user, "movie": self.movie}

    def user_vectors(self) -> torch.Tensor:
        return self.user(torch.arange(self.n_users, device=self.log_q.device))

    def movie_vectors(self) -> torch.Tensor:
        return self.movie(torch.arange(self.n_movies, device=self.log_q.device))

    def user_tables(self) -> list[nn.Embedding]:
        return [self.user.embedding]

    def add_users(self, n: int) -> None:
        """Append `n` users (`Tower.add_rows`); `set_user_histories` then gives them theirs."""
        if n < 0:
            raise ValueError(f"add_users needs n >= 0, got {n}")
        self.user.add_rows(n)
        self.n_users += n

    def set_user_histories(self, users: torch.Tensor, movies: torch.Tensor,
                           ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        """Fold-in: the users in `users` (a row index per rating) now have exactly these
        rated movies in their history (order and ratings do not matter to the mean)."""
        if self.history:
            self.user.replace_history(users, movies)
