from png_files import assert_png

from movierec.analysis import (
    plot_long_tail,
    plot_rating_distribution,
    rating_distribution,
    ratings_per,
    save_figure,
    top_crosstab,
)


def test_crosstab_holds_the_ratings_of_the_most_active(tiny_data):
    ratings = tiny_data.ratings
    table = top_crosstab(ratings, n_users=5, n_movies=4)
    assert list(table.index) == list(ratings_per(ratings, "user_id").index[:5])
    assert list(table.columns) == list(ratings_per(ratings, "movie_id").index[:4])
    lookup = ratings.set_index(["user_id", "movie_id"])["rating"]
    for user in table.index:
        for movie in table.columns:
            expected = lookup.get((user, movie))
            value = table.loc[user, movie]
            assert (value != value) if expected is None else value == expected


def test_distribution_and_counts(tiny_data):
    ratings = tiny_data.ratings
    distribution = rating_distribution(ratings)
    assert distribution.sum() == len(ratings)
    assert list(distribution.index) == sorted(ratings["rating"].unique())
    per_user = ratings_per(ratings, "user_id")
    assert per_user.is_monotonic_decreasing and per_user.sum() == len(ratings)


def test_exploration_pngs(tiny_data, tmp_path):
    ratings = tiny_data.ratings
    path = save_figure(plot_rating_distribution(rating_distribution(ratings)), tmp_path / "d.png")
    assert_png(path, 6, 4)
    assert_png(save_figure(plot_long_tail(ratings), tmp_path / "t.png"), 10, 4)
