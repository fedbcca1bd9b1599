"""Rating accuracy of presets on a named protocol: RMSE/MAE mean ± std, train s/fold,
ratings/s, beside the baselines -> one table and a JSON file.

    python benchmarks/rating_accuracy.py --models best biased-mf              # ml-100k u1..u5
    python benchmarks/rating_accuracy.py --protocol u1 --models best
    python benchmarks/rating_accuracy.py --data ml-latest-small --models best  # 5 random folds
    python benchmarks/rating_accuracy.py --data ml-1m --models best            # 90/10 x 5

Default protocol per variant: ml-100k canonical u1..u5, ml-latest-small 5 seeded random
folds, ml-1m / ml-10m seeded random 90/10 splits repeated 5 times. Real data come from
../shared/data/<variant> (or --data-dir); a variant whose ratings are absent is skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from movierec.cli.evaluation import evaluate_presets
from movierec.errors import MovieRecError
from movierec.evaluate import PROTOCOLS
from movierec.models import PRESETS

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
DEFAULT_PROTOCOL = {"ml-100k": "canonical", "ml-latest-small": "kfold"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="ml-100k", help="MovieLens variant")
    parser.add_argument("--data-dir", type=Path, help="folder with the variant's files")
    parser.add_argument("--protocol", choices=sorted(PROTOCOLS),
                        help="default: canonical (ml-100k), kfold (ml-latest-small), "
                             "holdout-90 (others)")
    parser.add_argument("--models", nargs="+", default=sorted(PRESETS), help="presets to run")
    parser.add_argument("--folds", type=int, default=5, help="random folds or repeats")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="output JSON (default benchmarks/results/)")
    args = parser.parse_args()
    folder = args.data_dir or SHARED / args.data
    protocol = args.protocol or DEFAULT_PROTOCOL.get(args.data, "holdout-90")
    out = args.json or HERE / "results" / f"rating_accuracy-{args.data}-{protocol}.json"
    try:
        evaluate_presets(args.models, args.data, folder, cv=True, folds=args.folds,
                         seed=args.seed, options={}, json_out=out, protocol=protocol)
    except MovieRecError as err:
        print(f"skipped {args.data}: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
