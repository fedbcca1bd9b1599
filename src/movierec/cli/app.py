"""The `movierec` command: a thin Typer layer over the data loaders and the Recommender."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from movierec.cli.index import index_app
from movierec.cli.render import console, show
from movierec.errors import MovieRecError

app = typer.Typer(help="Neural movie recommenders on MovieLens: train, evaluate, recommend.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Fetch and inspect MovieLens data sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(index_app, name="index")

Variant = Annotated[str, typer.Option("--data", "-d", help="MovieLens variant, e.g. ml-100k.")]
DataPath = Annotated[Path | None, typer.Option(
    "--path", help="Local folder or .zip with the variant's files (skips cache and download).")]
ModelDir = Annotated[Path, typer.Argument(help="Folder written by `movierec train`.")]
Options = Annotated[list[str] | None, typer.Option(
    "--option", "-o", help="Preset or training option key=value (repeatable), e.g. -o dim=32.")]


@data_app.command("fetch")
def data_fetch(variant: Variant = "ml-100k", path: DataPath = None) -> None:
    """Get a variant into the local cache (cache -> GroupLens -> offline mirror). With
    --path, the files there become the cached copy: asked for here, never as a side effect
    of loading with --path elsewhere."""
    from movierec.data import default_cache_dir, load_movielens
    from movierec.data.cache import write_entry

    data = load_movielens(variant, path)
    if path is not None:
        write_entry(default_cache_dir(), data)
    console.print(f"[green]{variant}[/]: {len(data.ratings):,} ratings from {data.source}")


@data_app.command("info")
def data_info(variant: Variant = "ml-100k", path: DataPath = None) -> None:
    """Summarise a variant: counts, rating scale, density, time span, canonical folds."""
    import pandas as pd

    from movierec.data import load_movielens

    data = load_movielens(variant, path)
    r = data.ratings
    n_users, n_movies = r["user_id"].nunique(), r["movie_id"].nunique()
    rows = {
        "source": data.source,
        "ratings": f"{len(r):,}",
        "users": f"{n_users:,}",
        "movies (rated / listed)": f"{n_movies:,} / {len(data.movies):,}",
        "rating values": ", ".join(f"{v:g}" for v in sorted(r["rating"].unique())),
        "mean rating": f"{r['rating'].mean():.3f}",
        "density": f"{len(r) / (n_users * n_movies):.2%}",
        "time span": f"{pd.to_datetime(r['timestamp'].min(), unit='s'):%Y-%m-%d} .. "
                     f"{pd.to_datetime(r['timestamp'].max(), unit='s'):%Y-%m-%d}",
        "user demographics": "yes" if data.users is not None else "no",
        "canonical folds": "u1..u5, ua, ub" if data.has_canonical_folds else "not available",
    }
    show(pd.DataFrame({"field": list(rows), "value": list(rows.values())}), title=variant)


@data_app.command("synth")
def data_synth(
    out: Annotated[Path, typer.Option("--out", help="Folder for ratings.parquet and "
                                      "movies.parquet (e.g. under $MOVIEREC_HOME).")],
    ratings: Annotated[int, typer.Option("--ratings", help="How many ratings.")] = 1_000_000,
    users: Annotated[int, typer.Option("--users", help="How many users.")] = 6_500,
    movies: Annotated[int, typer.Option("--movies", help="How many movies.")] = 2_500,
    dim: Annotated[int, typer.Option(help="Rank of the hidden taste model.")] = 16,
    seed: int = 0,
) -> None:
    """Generate MovieLens-shaped ratings (long tails, genres, timestamps, low-rank taste)
    as parquet, in bounded memory; ml-25m's size is --ratings 25000000 --users 162000
    --movies 62000."""
    from movierec.cli.scale import run_synth

    run_synth(out, ratings, users, movies, dim, seed)


@app.command()
def presets() -> None:
    """List the model presets: what each does (predicts ratings, ranks, or both) and the
    tutorial or paper it follows."""
    import pandas as pd

    from movierec.models import PRESETS

    show(pd.DataFrame({"preset": list(PRESETS),
                       "does": [p.does for p in PRESETS.values()],
                       "description": [p.description for p in PRESETS.values()]}))


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", help="Folder to save the trained model in.")],
    variant: Variant = "ml-100k",
    path: DataPath = None,
    model: Annotated[str | None, typer.Option(
        "--model", "-m", help="Model preset (default: top-k, the best lists; biased-mf with "
        "--ratings).")] = None,
    test_fraction: Annotated[float, typer.Option(
        help="Share of ratings held out for the reported test RMSE (0 trains on all).")] = 0.1,
    seed: int = 0,
    option: Options = None,
    plot: Annotated[bool, typer.Option(help="Also write loss_curve.png.")] = True,
    ratings: Annotated[Path | None, typer.Option(
        "--ratings", help="Train at scale from this ratings parquet (or a `data synth` "
        "folder) instead of a variant; -o takes ScaleConfig fields and preset options.")] = None,
    nproc: Annotated[int, typer.Option(
        "--nproc", help="With --ratings: train with this many processes (torchrun, DDP).")] = 1,
    resume: Annotated[bool, typer.Option(
        "--resume", help="With --ratings: continue from the last epoch checkpoint.")] = False,
) -> None:
    """Train a preset, report held-out RMSE/MAE (when it predicts ratings) and top-k metrics
    (when it ranks), and save the model folder."""
    from movierec.recommender.artifacts import check_save_target

    check_save_target(out)  # before any work: never train for a folder we may not replace
    if ratings is not None:
        from movierec.cli.scale import run_scale_train

        run_scale_train(out, ratings, model or "biased-mf", option or [],
                        test_fraction=test_fraction,
                        seed=seed, nproc=nproc, resume=resume)
        return
    from movierec import Recommender
    from movierec.cli.options import parse_options
    from movierec.data import load_movielens, random_split
    from movierec.evaluate import mae, rmse

    data = load_movielens(variant, path)
    ratings, test = data.ratings, None
    if test_fraction > 0:
        ratings, test = random_split(data.ratings, test_fraction=test_fraction, seed=seed)
    model = model or "top-k"
    rec = Recommender(model, seed=seed, **parse_options(option))
    rec.fit(ratings, movies=data.movies, users=data.users)
    rec.save(out)
    if plot and rec.history is not None:
        rec.history.plot(out / "loss_curve.png")
    console.print(f"saved [bold]{model}[/] to {out} ({rec.history.train_seconds:.1f}s of "
                  f"training); lists by {rec.roles()['ranker']}, stars by "
                  f"{rec.roles()['rater'] or 'nothing (a ranker only)'}")
    if test is None:
        return
    if rec.predicts_ratings:  # a ranker's scores are not ratings: no RMSE of them
        predicted = rec.predict(test)
        console.print(f"held-out RMSE {rmse(predicted, test['rating']):.4f}  "
                      f"MAE {mae(predicted, test['rating']):.4f} on {len(test):,} ratings")
    found = rec.ranking_metrics(test, ks=(10,))
    console.print(f"held-out top-10 over all {len(rec.movie_ids):,} movies, rated ones "
                  f"excluded: NDCG {found['ndcg@10']:.4f}  recall {found['recall@10']:.4f}  "
                  f"hit rate {found['hit_rate@10']:.4f} ({found['n_test']:,} test ratings)")


@app.command()
def evaluate(
    models: Annotated[list[str] | None, typer.Option(
        "--model", "-m", help="Preset to evaluate (repeatable); default biased-mf.")] = None,
    variant: Variant = "ml-100k",
    path: DataPath = None,
    cv: Annotated[bool, typer.Option(
        "--cv", help="Cross-validate: canonical u1..u5 when present, else random folds.")] = False,
    folds: Annotated[int, typer.Option(help="Number of random folds for --cv.")] = 5,
    seed: int = 0,
    option: Options = None,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Also write per-fold and summary results to this JSON file.")] = None,
) -> None:
    """RMSE/MAE of presets beside the global-mean and damped-bias baselines."""
    from movierec.cli.evaluation import evaluate_presets
    from movierec.cli.options import parse_options

    evaluate_presets(models or ["biased-mf"], variant, path, cv=cv, folds=folds, seed=seed,
                     options=parse_options(option), json_out=json_out)


@app.command()
def recommend(
    model_dir: ModelDir,
    user: Annotated[int, typer.Option("--user", "-u", help="Raw user id.")],
    k: Annotated[int, typer.Option("-k", help="How many movies.")] = 10,
    include_seen: Annotated[bool, typer.Option(help="Also list movies the user rated.")] = False,
    compare: Annotated[bool, typer.Option(
        "--compare", help="Beside the user's highest-rated movies in --data (the model keeps "
        "which movies they rated, not the ratings).")] = False,
    variant: Variant = "ml-100k",
    path: DataPath = None,
) -> None:
    """Top-k movies for a user (movies they rated are excluded unless --include-seen)."""
    from movierec import Recommender

    rec = Recommender.load(model_dir)
    if compare:
        from movierec.data import load_movielens

        ratings = load_movielens(variant, path).ratings
        show(rec.rated_vs_recommended(user, ratings, k).reset_index(),
             title=f"user {user}: rated highest in {variant} vs. top {k} for them")
        return
    show(rec.recommend(user, k, exclude_seen=not include_seen), title=f"top {k} for user {user}")


@app.command()
def similar(
    model_dir: ModelDir,
    movie: Annotated[str, typer.Option("--movie", help="Title (or part of it) or movie id.")],
    k: Annotated[int, typer.Option("-k", help="How many movies.")] = 10,
) -> None:
    """Movies most similar to one movie, by embedding cosine similarity."""
    from movierec import Recommender
    from movierec.cli.titles import find_movie

    rec = Recommender.load(model_dir)
    movie_id, title = find_movie(rec, movie)
    show(rec.similar_movies(movie_id, k), title=f"similar to {title} (id {movie_id})")


@app.command()
def explore(
    model_dir: ModelDir,
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html.")] = Path("report"),
    variant: Variant = "ml-100k",
    path: DataPath = None,
    min_ratings: Annotated[int, typer.Option(
        help="Ratings a movie needs to enter the bias ranking.")] = 50,
    map_min_ratings: Annotated[int, typer.Option(
        help="Ratings a movie needs for the map, genre centroids and components.")] = 20,
    tsne: Annotated[bool, typer.Option(help="Map with t-SNE instead of PCA (slower).")] = False,
) -> None:
    """Write one self-contained HTML report of what a saved model learned."""
    from movierec.cli.explore import run_explore

    run_explore(model_dir, out, variant, path, min_ratings=min_ratings,
                map_min_ratings=map_min_ratings, map_method="tsne" if tsne else "pca")


@app.command()
def export(
    model_dir: ModelDir,
    fmt: Annotated[str, typer.Option("--format", help="onnx or torchscript.")] = "onnx",
    out: Annotated[Path | None, typer.Option(
        help="Output folder (default: MODEL_DIR.<format>/ beside the model).")] = None,
) -> None:
    """Export the scoring model and the user/movie towers to ONNX or TorchScript; a preset
    whose graph would not reproduce it (rankers, item-knn) is refused, nothing written."""
    from movierec import Recommender
    from movierec.export import export_graphs

    target = out or model_dir.with_name(f"{model_dir.name}.{fmt}")
    manifest = export_graphs(Recommender.load(model_dir), target, fmt)
    console.print(f"wrote {', '.join(manifest['graphs'])} ({fmt}) to {target}")


@app.command()
def serve(
    model_dir: ModelDir,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    db: Annotated[str | None, typer.Option(
        "--db", envvar="MOVIEREC_DB_URL",
        help="SQLAlchemy URL of the profile store, e.g. postgresql+psycopg://user@host/db "
             "(default: SQLite file in MODEL_DIR.service/).")] = None,
    api_key: Annotated[str | None, typer.Option(
        "--api-key", envvar="MOVIEREC_API_KEY",
        help="Require this X-API-Key header on write endpoints and profile reads "
             "(without one, both are open to anyone who can reach the port).")] = None,
    cors_origin: Annotated[list[str] | None, typer.Option(
        "--cors-origin", help="Allow this browser origin (repeatable); CORS is off by default.")
    ] = None,
    report: Annotated[Path | None, typer.Option(
        help="`movierec explore` report (report.html or its folder) to link from the page "
             "(default: MODEL_DIR/report/report.html when present).")] = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", help="Answer requests for this Host name (repeatable; '*' for any); "
        "others get 400, against DNS rebinding (default: the --host address, localhost and "
        "127.0.0.1).")] = None,
) -> None:
    """Serve the REST API and web page for a saved model (profiles stored in a database)."""
    from movierec.service.server import serve as run_server
    from movierec.service.settings import ServiceSettings

    settings = ServiceSettings(model_dir, database_url=db, api_key=api_key,
                               cors_origins=tuple(cors_origin or ()), report_path=report,
                               allowed_hosts=tuple(allowed_host) if allowed_host else None)
    run_server(settings, host=host, port=port)


@app.command()
def tune(
    model: Annotated[str, typer.Option("--model", "-m", help="Preset to tune.")] = "autorec",
    variant: Variant = "ml-100k",
    path: DataPath = None,
    protocol: Annotated[str, typer.Option(
        help="Tune on the training part of this protocol's first fold (u1, kfold, ...).")] = "u1",
    trials: Annotated[int, typer.Option(help="Optuna trials.")] = 20,
    seed: int = 0,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Also write every trial and the best options to this JSON file.")] = None,
) -> None:
    """Optuna search of a preset's options on a validation split of training data only."""
    from movierec.cli.tuning import run_tune

    run_tune(model, variant, path, protocol=protocol, trials=trials, seed=seed,
             json_out=json_out)


@app.command()
def demo(
    user: Annotated[int, typer.Option("--user", "-u", help="User to recommend for.")] = 42,
    model: Annotated[str, typer.Option(
        "--model", "-m", help="Model preset (default top-k: the best lists).")] = "top-k",
    out: Annotated[Path, typer.Option(help="Where to save the demo model.")] = Path(
        "runs/demo-ml-100k"),
) -> None:
    """The main job on ml-100k: train, compare with baselines, recommend for one user."""
    from movierec.cli.demo import run_demo

    run_demo(user=user, preset=model, out=out)


def main() -> None:
    """Console entry point: a MovieRecError, or an OSError (a path that cannot be read or
    written), becomes a one-line message and exit status 2."""
    try:
        app()
    except (MovieRecError, OSError) as err:
        console.print(f"[red]error:[/] {escape(str(err))}", soft_wrap=True)
        raise SystemExit(2) from None
