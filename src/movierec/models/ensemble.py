"""`BlendedEnsemble`: a linear blend of other presets' predicted ratings.

The members are ordinary presets built with the same shape; the Trainer fits each on the
training split and then the blend (ridge regression) on the validation split only. With
`blend_features`, each member's weight varies linearly with how many ratings the user and the
movie have (feature-weighted linear stacking, Sill et al. 2009): autoencoders are trusted more
for well-rated movies, biases for sparse ones. With `refit`, each member then trains on
training + validation ratings and the blend weights are kept (the Netflix-prize "probe then
retrain" recipe): from scratch for the epoch count its validation curve chose, or, with
`refit_epochs`, for that many more epochs from its best validation weights.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.base import RatingModel


class BlendedEnsemble(RatingModel):
    """rating = Σ_m Σ_f w_mf · feature_f(u, i) · member_m(u, i) + b, clamped to the range.

    Features: 1, and (with `blend_features`) the centred log(1 + count) of the user's and the
    movie's observed ratings. Named parts gather the members' parts by name ("user",
    "movie"; everything else and the blend itself under "head"). Vectors are the members'
    vectors side by side. Without a validation split the blend stays an equal-weight average.
    `blend_l2` None picks the ridge penalty by 5-fold cross-validation on the validation split.
    """

    default_preset = "best"
    training_regime: ClassVar[str] = "members"
    fold_in_regime: ClassVar[str] = "none"

    def __init__(self, n_users: int, n_movies: int, rating_range: tuple[float, float] = (1.0, 5.0),
                 members: tuple[str, ...] = ("autorec", "biased-mf"),
                 blend_l2: float | None = 1.0, blend_features: bool = False,
                 refit: bool = False, refit_epochs: int | None = None) -> None:
        from movierec.models.presets import build_model  # presets list this class

        super().__init__(n_users, n_movies, rating_range)
        if not members:
            raise ConfigError("an ensemble needs at least one member preset")
        if blend_l2 is not None and blend_l2 < 0:
            raise ConfigError(f"blend_l2 must be >= 0 (or None to cross-validate); got {blend_l2}")
        self.members, self.blend_l2 = tuple(members), blend_l2
        if refit_epochs is not None and refit_epochs < 1:
            raise ConfigError(f"refit_epochs must be >= 1 (or None to refit from scratch); "
                              f"got {refit_epochs}")
        self.blend_features, self.refit = bool(blend_features), bool(refit)
        self.refit_epochs = refit_epochs
        self.member_models = nn.ModuleList(
            [build_model(name, n_users, n_movies, rating_range) for name in self.members])
        n_features = 3 if self.blend_features else 1
        self.blend = nn.Linear(len(self.members) * n_features, 1)
        self.register_buffer("user_support", torch.zeros(n_users))
        self.register_buffer("movie_support", torch.zeros(n_movies))
        equal = torch.zeros(len(self.members), n_features)
        equal[:, 0] = 1.0 / len(self.members)
        self.set_blend(equal.flatten(), 0.0)

    @torch.no_grad()
    def set_blend(self, weights: torch.Tensor, bias: float) -> None:
        """Weights ordered member-major: [w_m0, w_m1, ...] per member m (see `blend_inputs`)."""
        self.blend.weight.copy_(weights.view(1, -1))
        self.blend.bias.fill_(bias)

    def member_predictions(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """[B, n_members] clamped member ratings."""
        return torch.stack([m.predict(users, movies) for m in self.member_models], dim=1)

    def _features(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """[..., F] blend features of broadcastable user/movie index tensors."""
        if not self.blend_features:
            return torch.ones((*torch.broadcast_shapes(users.shape, movies.shape), 1),
                              device=users.device)
        user, movie = torch.broadcast_tensors(self.user_support[users],
                                              self.movie_support[movies])
        return torch.stack([torch.ones_like(user), user, movie], dim=-1)

    def blend_inputs(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        """[B, n_members * F]: each member's prediction times each feature."""
        return self.blend_inputs_from(self.member_predictions(users, movies), users, movies)

    def blend_inputs_from(self, predictions: torch.Tensor, users: torch.Tensor,
                          movies: torch.Tensor) -> torch.Tensor:
        """`blend_inputs` from given [B, n_members] member predictions."""
        features = self._features(users, movies)
        return (predictions[:, :, None] * features[:, None, :]).flatten(1)

    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        return self.blend(self.blend_inputs(users, movies))[:, 0]

    def score(self, users: torch.Tensor) -> torch.Tensor:
        grids = torch.stack([m.score(users) for m in self.member_models], dim=-1)
        weights = self.blend.weight.view(len(self.members), -1)  # [M, F]
        movies = torch.arange(self.n_movies, device=users.device)
        features = self._features(users[:, None], movies[None, :])
        blended = ((grids @ weights) * features).sum(-1) + self.blend.bias
        return blended.clamp(*self.rating_range)

    @torch.no_grad()
    def observe_ratings(self, users: torch.Tensor, movies: torch.Tensor,
                        ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        for table, index in ((self.user_support, users), (self.movie_support, movies)):
            support = torch.log1p(torch.bincount(index, minlength=len(table)).float())
            table.copy_(support - support[index].mean())  # centred over the ratings
        for member in self.member_models:
            member.observe_ratings(users, movies, ratings)

    def parts(self) -> dict[str, nn.Module]:
        grouped: dict[str, list[nn.Module]] = {"user": [], "movie": [], "head": [self.blend]}
        for member in self.member_models:
            for name, part in member.parts().items():
                grouped[name if name in ("user", "movie") else "head"].append(part)
        return {name: nn.ModuleList(modules) for name, modules in grouped.items()}

    def user_vectors(self) -> torch.Tensor:
        return torch.cat([m.user_vectors() for m in self.member_models], dim=1)

    def movie_vectors(self) -> torch.Tensor:
        return torch.cat([m.movie_vectors() for m in self.member_models], dim=1)

    def user_tables(self) -> list[nn.Embedding]:
        raise ConfigError("the ensemble cannot fold in users (its autoencoder members hold "
                          "one column per user); refit on all ratings instead")

    def add_users(self, n: int) -> None:
        self.user_tables()
