"""Every rating preset on one protocol: RMSE/MAE mean ± std, train s/fold, ratings/s -> JSON.

    python benchmarks/rating_models.py                        # ml-100k u1..u5, all presets
    python benchmarks/rating_models.py --data ml-latest-small --models biased-mf mlp-tiny

Real data come from ../shared/data/<variant> (or --data-dir); absent data is a clean skip.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from movierec.cli.evaluation import evaluate_presets
from movierec.models import PRESETS

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="ml-100k", help="MovieLens variant")
    parser.add_argument("--data-dir", type=Path, help="folder with the variant's files")
    parser.add_argument("--models", nargs="+", default=sorted(PRESETS), help="presets to run")
    parser.add_argument("--folds", type=int, default=5, help="random folds when no canonical")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="output JSON (default benchmarks/results/)")
    args = parser.parse_args()
    folder = args.data_dir or SHARED / args.data
    if not folder.exists():
        print(f"skipped: {folder} not found (pass --data-dir)")
        return 0
    out = args.json or HERE / "results" / f"rating_models-{args.data}.json"
    evaluate_presets(args.models, args.data, folder, cv=True, folds=args.folds, seed=args.seed,
                     options={}, json_out=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
