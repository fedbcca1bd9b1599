"""Two-tower retrieval: logits shape and corrections by hand; training separates taste groups;
new users join by their history."""

import math

import torch

from movierec.models.tower_features import TowerFeatures
from movierec.models.two_tower import TwoTower
from movierec.training import RatingTensors, TrainConfig, Trainer
from movierec.training.retrieval_task import InBatchSoftmaxTask


def test_logits_apply_temperature_logq_and_duplicate_mask():
    model = TwoTower(3, 4, dim=4, hidden=(), out_dim=2, temperature=0.5)
    model.set_sampling_probabilities(torch.tensor([1.0, 1.0, 2.0, 0.0]))
    users, movies = torch.tensor([0, 1, 2]), torch.tensor([2, 1, 2])
    logits = model(users, movies)
    u, m = model.user(users), model.movie(movies)
    expected = u @ m.T / 0.5 - torch.log(torch.tensor([0.5, 0.25, 0.5]))[None, :]
    assert logits.shape == (3, 3)
    assert torch.isneginf(logits[0, 2]) and torch.isneginf(logits[2, 0])  # same movie twice
    keep = ~torch.isneginf(logits)
    torch.testing.assert_close(logits[keep], expected[keep])
    assert math.isclose(model.log_q[3].item(), math.log(1 / 4), rel_tol=1e-6)  # unseen: 1


def test_in_batch_softmax_loss_by_hand():
    logits = torch.tensor([[2.0, 0.0], [1.0, 1.0]])
    expected = -(math.log(math.exp(2) / (math.exp(2) + 1)) + math.log(0.5)) / 2
    assert math.isclose(InBatchSoftmaxTask().loss(logits, torch.ones(2)).item(), expected,
                        rel_tol=1e-6)


def test_training_ranks_in_group_movies_first():
    # users 0..19 interact with movies 0..9, users 20..39 with movies 10..19
    users = torch.arange(40).repeat_interleave(10)
    movies = (torch.arange(10).repeat(40) + 10 * (users >= 20)).long()
    model = TwoTower(40, 20, dim=8, hidden=(), out_dim=8, temperature=0.1)
    model.set_sampling_probabilities(torch.bincount(movies, minlength=20))
    config = TrainConfig(epochs=30, batch_size=40, lr=0.05, progress=False, num_threads=1)
    Trainer(model, config, task=InBatchSoftmaxTask()).fit(
        RatingTensors(users, movies, torch.ones(len(users))))
    with torch.no_grad():
        top = model.score(torch.arange(40)).topk(5, dim=1).indices
    in_group = (top // 10) == (torch.arange(40) >= 20).long()[:, None]
    assert in_group.float().mean() > 0.95


# --- features and mixed negatives ---------------------------------------------------------
# Two taste groups: group 0 (users 0..29, gender code 1) rates genre-A movies (0..29), group
# 1 (users 30..59, code 2) genre-B movies (30..59). Movies 20..29 and 50..59 are never rated
# ("cold"); users 25..29 and 55..59 have no training ratings ("new").
N_USERS, N_MOVIES = 60, 60
GROUP = (torch.arange(N_USERS) >= 30).long()
GENRE = (torch.arange(N_MOVIES) >= 30).long()
COLD_MOVIES = torch.tensor([m for m in range(N_MOVIES) if m % 30 >= 20])
WARM_MOVIES = torch.tensor([m for m in range(N_MOVIES) if m % 30 < 20])
NEW_USERS = torch.tensor([u for u in range(N_USERS) if u % 30 >= 25])


def group_ratings(users: torch.Tensor, per_user: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    rows = users.repeat_interleave(per_user)
    movies = torch.randint(0, 20, (len(rows),), generator=g) + 30 * GROUP[rows]
    return rows, movies


def train_two_tower(**options) -> TwoTower:
    known = torch.tensor([u for u in range(N_USERS) if u % 30 < 25])
    users, movies = group_ratings(known)
    torch.manual_seed(0)
    model = TwoTower(N_USERS, N_MOVIES, dim=16, hidden=(32,), out_dim=16, temperature=0.1,
                     **options)
    model.set_features(TowerFeatures(
        genres=torch.nn.functional.one_hot(GENRE, 2).float(), years=None,
        user_codes=(GROUP + 1)[:, None], user_field_sizes=(3,)))
    config = TrainConfig(epochs=40, batch_size=64, lr=0.01, progress=False, num_threads=1)
    Trainer(model, config).fit(RatingTensors(users, movies, torch.ones(len(users))))
    return model.eval()


def own_group_share(model: TwoTower, users: torch.Tensor, movies: torch.Tensor) -> float:
    """Share of (user, own-genre movie, other-genre movie) triples ordered correctly."""
    with torch.no_grad():
        scores = model.score(users)[:, movies]
    own = GENRE[movies][None, :] == GROUP[users][:, None]
    better = scores.masked_fill(~own, torch.nan).nanmean(1) > scores.masked_fill(
        own, torch.nan).nanmean(1)
    return better.float().mean().item()


def test_genres_place_never_rated_movies_with_their_genre():
    warm_users = torch.tensor([u for u in range(N_USERS) if u % 30 < 25])
    with_genres = train_two_tower(genres=2)
    assert own_group_share(with_genres, warm_users, COLD_MOVIES) > 0.9


def test_demographics_place_new_users_with_their_group():
    with_fields = train_two_tower(user_fields=(3,))
    assert own_group_share(with_fields, NEW_USERS, WARM_MOVIES) > 0.9


def test_history_serves_new_users_from_their_ratings_without_training():
    model = train_two_tower(history=True)
    every_user = torch.arange(N_USERS)
    model.observe_ratings(*group_ratings(every_user), torch.ones(N_USERS * 10))
    assert own_group_share(model, NEW_USERS, WARM_MOVIES) > 0.9


def test_ids_alone_cannot_place_cold_rows():
    """The control for the three tests above: without features they are at chance."""
    ids_only = train_two_tower()
    warm_users = torch.tensor([u for u in range(N_USERS) if u % 30 < 25])
    assert own_group_share(ids_only, NEW_USERS, WARM_MOVIES) < 0.8
    assert own_group_share(ids_only, warm_users, COLD_MOVIES) < 0.8


def test_history_mean_leaves_the_training_positive_out():
    model = TwoTower(2, 4, dim=3, hidden=(), out_dim=3, history=True)
    model.observe_ratings(torch.tensor([0, 0, 1]), torch.tensor([1, 3, 2]), torch.ones(3))
    table = model.user.history.weight
    full = model.user._history_mean(torch.tensor([0, 1]), None)
    torch.testing.assert_close(full, torch.stack([(table[1] + table[3]) / 2, table[2]]))
    left_out = model.user._history_mean(torch.tensor([0, 1]), torch.tensor([3, 2]))
    torch.testing.assert_close(left_out, torch.stack([table[1], torch.zeros(3)]))


def test_mixed_negatives_add_uniform_candidates_with_mixture_logq():
    model = TwoTower(3, 50, dim=4, hidden=(), out_dim=4, temperature=0.5, mixed_negatives=5)
    counts = torch.zeros(50)
    counts[:3] = torch.tensor([2.0, 1.0, 1.0])
    model.set_sampling_probabilities(counts)
    users, movies = torch.tensor([0, 1, 2]), torch.tensor([0, 1, 2])
    torch.manual_seed(3)
    logits = model.train()(users, movies)
    assert logits.shape == (3, 8)
    torch.manual_seed(3)
    sampled = torch.randint(0, 50, (5,))
    candidates = torch.cat([movies, sampled])
    share = counts.clamp(min=1) / counts.sum()
    expected = (model.user(users) @ model.movie(candidates).T / 0.5
                - torch.log(3 * share[candidates] + 5 / 50)[None, :])
    keep = ~torch.isneginf(logits)
    torch.testing.assert_close(logits[keep], expected[keep])
    assert model.eval()(users, movies).shape == (3, 3)  # scoring: in-batch only


def test_mixed_negatives_push_never_rated_movies_down():
    def cold_share_in_top5(model: TwoTower) -> float:
        with torch.no_grad():
            top = model.score(torch.arange(N_USERS)).topk(5, dim=1).indices
        return torch.isin(top, COLD_MOVIES).float().mean().item()

    in_batch_only = cold_share_in_top5(train_two_tower())
    mixed = cold_share_in_top5(train_two_tower(mixed_negatives=32))
    assert mixed < 0.05 < in_batch_only


# --- fold-in: new users join by their history ---------------------------------------------
def test_add_users_appends_average_users_and_keeps_the_others():
    model = TwoTower(4, 6, dim=3, hidden=(), out_dim=3, user_fields=(3,), history=True)
    model.user.codes.copy_(torch.tensor([[1], [2], [1], [1]]))  # code 0 (unknown): unused
    model.observe_ratings(torch.tensor([0, 0, 1, 2, 3]), torch.tensor([1, 3, 2, 0, 5]),
                          torch.ones(5))
    ids, field = model.user.embedding.weight.detach().clone(), model.user.fields[0].weight
    untrained_unknown = field.detach().clone()
    with torch.no_grad():
        before = model.user_vectors()
    model.add_users(2)
    assert model.n_users == 6 and model.user.embedding.num_embeddings == 6
    torch.testing.assert_close(model.user.embedding.weight[4:], ids.mean(0).expand(2, -1))
    assert model.user.codes[4:].eq(0).all() and model.user.history_indptr.tolist()[-3:] == [5] * 3
    expected_unknown = (3 * untrained_unknown[1] + untrained_unknown[2]) / 4
    torch.testing.assert_close(field[0], expected_unknown)  # frequency-weighted mean
    assert torch.equal(field[1:], untrained_unknown[1:])
    with torch.no_grad():
        assert torch.equal(model.user_vectors()[:4], before)
        model.add_users(1)  # code 0 is now held by users 4 and 5: it stays as it is
    torch.testing.assert_close(field[0], expected_unknown)


def test_set_user_histories_replaces_only_those_users_rows():
    model = TwoTower(2, 4, dim=3, hidden=(), out_dim=3, history=True)
    model.observe_ratings(torch.tensor([0, 0, 1]), torch.tensor([1, 3, 2]), torch.ones(3))
    model.add_users(1)
    model.set_user_histories(torch.tensor([2, 2, 2, 1]), torch.tensor([0, 0, 3, 1]),
                             torch.ones(4))
    assert model.user.history_indptr.tolist() == [0, 2, 3, 5]
    assert model.user.history_items.tolist() == [1, 3, 1, 0, 3]  # duplicates dropped
    with torch.no_grad():
        model.user.embedding.weight[2] = model.user.embedding.weight[0]
        vectors = model.user_vectors()
    assert not torch.equal(vectors[2], vectors[0])
    model.set_user_histories(torch.tensor([2, 2]), torch.tensor([3, 1]), torch.ones(2))
    with torch.no_grad():  # same id row, same history: same vector
        torch.testing.assert_close(model.user_vectors()[2], vectors[0])
