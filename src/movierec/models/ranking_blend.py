"""`RankingBlend`: rankers whose per-user standardised scores are summed with weights chosen
on a validation split, so rankers on different scales (logits, reconstructions, counts)
combine."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.base import Scorer


def standardised(scores: torch.Tensor) -> torch.Tensor:
    """Each row shifted to mean 0 and scaled to standard deviation 1 over the catalogue."""
    scores = torch.as_tensor(scores, dtype=torch.float32)
    spread = scores.std(dim=1, keepdim=True).clamp_min(1e-12)
    return (scores - scores.mean(dim=1, keepdim=True)) / spread


def weight_grid(n_members: int, step: float) -> list[tuple[float, ...]]:
    """Every weight vector on the simplex with the given step (they sum to 1)."""
    units = round(1.0 / step)
    return [tuple(c / units for c in combo)
            for combo in itertools.product(range(units + 1), repeat=n_members)
            if sum(combo) == units]


class RankingBlend(Scorer):
    """score(users) = sum_m w_m * standardised(member_m.score(users)).

    Members are ranker presets (built with this model's shape; their own preset defaults,
    with `member_options[i]` on top: model options build the member, the rest are its
    training options, e.g. {"dropout": 0.25, "epochs": 10}). `weights` None: the Trainer's
    "ranking_members" regime fits the members on most of the training data, picks the
    weights on the simplex grid (`weight_step`) by NDCG@10 on the held-out rest (a random
    `weight_holdout` share of each user's ratings; not the facade's `validation_fraction`,
    which rating models use for early stopping), then refits every member weighted above 0
    on all of it (a member weighted 0 is never asked for scores). Named parts: each
    member's parts, prefixed by its position and name.
    """

    default_preset = "ranking-blend"
    training_regime: ClassVar[str] = "ranking_members"
    fold_in_regime: ClassVar[str] = "history"
    predicts_ratings: ClassVar[bool] = False
    ranks: ClassVar[bool] = True

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0),
                 members: tuple[str, ...] = ("ease", "popularity"),
                 member_options: tuple[dict, ...] | None = None,
                 weights: tuple[float, ...] | None = None, weight_step: float = 0.1,
                 weight_holdout: float = 0.1) -> None:
        from movierec.models.presets import build_model, get_preset  # presets list this class

        super().__init__(n_users, n_movies, rating_range)
        members = tuple(members)
        if not members:
            raise ConfigError("a ranking blend needs at least one member preset")
        options = tuple(dict(o) for o in member_options) if member_options else ({},) * len(members)
        if len(options) != len(members):
            raise ConfigError(f"member_options needs one dict per member ({len(members)}), "
                              f"got {len(options)}")
        for name in members:
            cls = get_preset(name).model_class
            if not cls.ranks or cls.fold_in_regime != "history":
                raise ConfigError(f"member {name!r} cannot be blended: members must be rankers "
                                  "that fold in users from their history "
                                  "(`movierec presets` lists the rankers)")
        if weights is not None:
            weights = tuple(float(w) for w in weights)
            if len(weights) != len(members) or min(weights) < 0 or sum(weights) <= 0:
                raise ConfigError(f"weights must be one number >= 0 per member with a positive "
                                  f"sum; got {list(weights)} for {len(members)} members")
        if not 0.0 < weight_step <= 1.0 or abs(round(1 / weight_step) * weight_step - 1) > 1e-9:
            raise ConfigError(f"weight_step must divide 1 (e.g. 0.1, 0.25), got {weight_step}")
        if not 0.0 < weight_holdout < 1.0:
            raise ConfigError(f"weight_holdout must be in (0, 1), got {weight_holdout}")
        self.members, self.member_options, self.weights = members, options, weights
        self.weight_step, self.weight_holdout = weight_step, weight_holdout
        shaped = [set(get_preset(name).option_names()) for name in members]
        self.member_training = tuple({k: v for k, v in opts.items() if k not in names}
                                     for opts, names in zip(options, shaped, strict=True))
        self.member_models = nn.ModuleList(
            [build_model(name, n_users, n_movies, rating_range,
                         **{k: v for k, v in opts.items() if k in names})
             for name, opts, names in zip(members, options, shaped, strict=True)])
        self.register_buffer("blend_weights", torch.tensor(
            weights if weights is not None else [1.0 / len(members)] * len(members)))

    @classmethod
    def fit_memory(cls, n_movies: int, options: Mapping[str, Any]) -> float:
        """The members' needs summed: they may fit side by side, one process each. Runs
        before the blend checks its options, so a `member_options` of the wrong length is
        read as far as it goes (the constructor then names the mistake)."""
        from movierec.models.presets import get_preset

        given = list(options.get("member_options") or ())
        total = 0.0
        for i, name in enumerate(options["members"]):
            spec = get_preset(name)
            mine = given[i] if i < len(given) else {}
            total += spec.model_class.fit_memory(n_movies, {**spec.model_defaults, **mine})
        return total

    def config(self) -> dict:
        cfg = super().config()
        cfg["member_options"] = [dict(o) for o in self.member_options]
        cfg["weights"] = self.blend_weights.tolist()  # the chosen ones reload as fixed
        return cfg

    def set_weights(self, weights: tuple[float, ...]) -> None:
        self.blend_weights = torch.tensor(weights, dtype=torch.float32,
                                          device=self.blend_weights.device)

    def member_scores(self, users: torch.Tensor) -> list[torch.Tensor]:
        """Each member's standardised [len(users), n_movies] scores."""
        return [standardised(m.score(users)).to(self.blend_weights.device)
                for m in self.member_models]

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self._blend(lambda member: member.score(users))

    def similar_movie_scores(self, movies: torch.Tensor) -> torch.Tensor:
        return self._blend(lambda member: member.similar_movie_scores(movies))

    def _blend(self, member_scores: Callable[[Scorer], torch.Tensor]) -> torch.Tensor:
        """The weighted sum of the standardised scores of the members weighted above 0 (the
        others are not asked)."""
        return sum(w * standardised(member_scores(m)).to(self.blend_weights.device)
                   for w, m in zip(self.blend_weights.tolist(), self.member_models, strict=True)
                   if w > 0)

    def roles(self) -> dict[str, str | None]:
        named = " + ".join(f"{w:.2f} {n}" for w, n in
                           zip(self.blend_weights.tolist(), self.members, strict=True))
        return {"ranker": f"{self.preset} ({named})", "rater": None}

    def parts(self) -> dict[str, nn.Module]:
        return {f"{i}.{name}.{part}": module
                for i, (name, member) in enumerate(zip(self.members, self.member_models,
                                                       strict=True))
                for part, module in member.parts().items()}

    def add_users(self, n: int) -> None:
        for member in self.member_models:
            member.add_users(n)
        self.n_users += n

    def observe_ratings(self, users: torch.Tensor, movies: torch.Tensor,
                        ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        for member in self.member_models:
            member.observe_ratings(users, movies, ratings, timestamps)

    def set_user_histories(self, users: torch.Tensor, movies: torch.Tensor,
                           ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        for member in self.member_models:
            member.set_user_histories(users, movies, ratings, timestamps)  # type: ignore[operator]

    def candidate_weights(self) -> list[tuple[float, ...]]:
        """The weights the Trainer tries on validation (just the given ones when fixed)."""
        if self.weights is not None:
            return [self.weights]
        return weight_grid(len(self.members), self.weight_step)

