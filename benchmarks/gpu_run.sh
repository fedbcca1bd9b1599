#!/usr/bin/env bash
# The GPU session's one call for issue #15: the conformance
# suite and the device tests on CUDA, then benchmarks/gpu.py; about 6 minutes on an H200.
#
# Needs, beside the working tree (both git-ignored, so name them in the device tool's carry):
#   .whl/       wheels the GPU image lacks (implicit, for the ials and bpr presets):
#               pip download --no-deps --only-binary=:all: --python-version 3.12
#               --implementation cp --platform manylinux2014_x86_64 -d .whl implicit==0.7.3
#   .gpu_data/  a copy of ml-100k (all its GroupLens files): cp -r ../shared/data/ml-100k .gpu_data/
# Writes its logs and gpu.json into $OUT (the device tool brings that folder back).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-run}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"

# the 25M-rating synthetic set is CPU work: made while the tests use the GPU
SCRATCH=/tmp/gpu-scratch
mkdir -p "$SCRATCH"
python3 benchmarks/gpu.py --make-data-only --scratch "$SCRATCH" > "$OUT/make_data.log" 2>&1 &
MAKING=$!

timeout 170 python3 -m pytest -q -p no:cacheprovider -rfE --durations=10 \
    tests/recommender tests/test_devices.py tests/training/test_device_mf.py -k "cuda or other_device" \
    > "$OUT/conformance_cuda.log" 2>&1
echo "conformance on CUDA: exit $? (log: conformance_cuda.log)"
tail -n 25 "$OUT/conformance_cuda.log"

wait "$MAKING" || { echo "making the scale set failed:"; tail -n 20 "$OUT/make_data.log"; }
timeout 380 python3 benchmarks/gpu.py --device cuda --data .gpu_data/ml-100k \
    --scratch "$SCRATCH" --budget-s 300 --out "$OUT/gpu.json" 2>&1 | tee "$OUT/gpu.log"
echo "benchmarks/gpu.py: exit ${PIPESTATUS[0]}"
