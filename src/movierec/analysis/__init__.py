"""Insight into a trained model: embeddings, maps, genre clusters, bias ranking and a report.

Every plotting function returns a matplotlib Figure drawn by Agg; matplotlib is imported only
when a figure is made.
"""

from movierec.analysis.bias import bias_ranking, learned_movie_bias, plot_bias_ranking
from movierec.analysis.curves import plot_history
from movierec.analysis.embeddings import (
    movie_embeddings,
    user_embeddings,
    vector_columns,
    vector_matrix,
)
from movierec.analysis.exploration import (
    plot_long_tail,
    plot_rating_distribution,
    rating_distribution,
    ratings_per,
    top_crosstab,
)
from movierec.analysis.genres import (
    cluster_order,
    extreme_pairs,
    genre_centroids,
    genre_distances,
    plot_genre_heatmap,
)
from movierec.analysis.maps import label_positions, plot_movie_map, plot_user_map
from movierec.analysis.plotting import save_figure
from movierec.analysis.projection import (
    Projection,
    component_titles,
    map_coordinates,
    principal_components,
)
from movierec.analysis.report import ReportSettings, build_report, write_report
from movierec.analysis.summary import model_summary

__all__ = [
    "Projection",
    "ReportSettings",
    "bias_ranking",
    "build_report",
    "cluster_order",
    "component_titles",
    "extreme_pairs",
    "genre_centroids",
    "genre_distances",
    "label_positions",
    "learned_movie_bias",
    "map_coordinates",
    "model_summary",
    "movie_embeddings",
    "plot_bias_ranking",
    "plot_genre_heatmap",
    "plot_history",
    "plot_long_tail",
    "plot_movie_map",
    "plot_rating_distribution",
    "plot_user_map",
    "principal_components",
    "rating_distribution",
    "ratings_per",
    "save_figure",
    "top_crosstab",
    "user_embeddings",
    "vector_columns",
    "vector_matrix",
    "write_report",
]
