#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600), one after the other, with seed inputs taken
# from the repository (test vectors, configs, reference programs, tiny images made with OpenCV), and
# prints each target's executions and whether it found a crash. Needs a nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz --locked`). Corpora and crashes stay under fuzz/corpus and
# fuzz/artifacts (gitignored). Usage: fuzz/run_all.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-600}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(parse_header open_bytes manifest config image paddle_legacy paddle_pir paddle_params)
. scripts/ci/env.sh
C=fuzz/corpus
seed() { # target files...
    local t="$1"; shift
    mkdir -p "$C/$t"
    for f in "$@"; do
        if [ -f "$f" ]; then cp "$f" "$C/$t/seed_$(basename "$(dirname "$f")")_$(basename "$f")"; fi
    done
}
seed parse_header tests/vectors/*.sealed
seed open_bytes tests/vectors/*.sealed tests/vectors/*.encrypted
seed manifest
seed config crates/modelseal-deploy/tests/data/*/*.yml crates/modelseal-deploy/tests/data/*/*.yaml .models/*/*.yml .models/*/*.yaml
seed paddle_legacy crates/modelseal-paddle/tests/data/ops/conv2d*/legacy.pdmodel crates/modelseal-paddle/tests/data/models/mobilenet_v1/legacy.pdmodel
seed paddle_pir crates/modelseal-paddle/tests/data/ops/conv2d*/pir.json crates/modelseal-paddle/tests/data/models/mobilenet_v1/pir.json
seed paddle_params crates/modelseal-paddle/tests/data/ops/conv2d*/*.pdiparams
mkdir -p "$C/image"
"$PYTHON" - "$C/image" <<'PY'
import sys, numpy as np, cv2
rng = np.random.default_rng(7)
img = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
for ext in ("png", "jpg", "bmp", "webp", "tiff"):
    cv2.imwrite(f"{sys.argv[1]}/seed.{ext}", img)
cv2.imwrite(f"{sys.argv[1]}/seed_gray.png", img[:, :, 0])
PY
cargo +nightly fuzz build --fuzz-dir fuzz -O
for t in "${TARGETS[@]}"; do
    log="fuzz/artifacts/$t.log"
    mkdir -p fuzz/artifacts/"$t"
    set +e
    cargo +nightly fuzz run --fuzz-dir fuzz -O "$t" "$C/$t" -- -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
        -rss_limit_mb=4096 >"$log" 2>&1
    rc=$?
    set -e
    execs="$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')"
    crashes="$(find "fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | wc -l)"
    echo "$t: ${SECONDS_EACH} s, ${execs:-?} executions, $crashes crashes (exit $rc)"
done
