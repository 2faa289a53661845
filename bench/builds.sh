#!/usr/bin/env bash
# Times ./build.sh on a project of 50 Lambdas whose lock holds requests and
# pydantic (issue 13 item 6), wheels served from a local wheelhouse made once
# (bench/out/wheelhouse, by `pip download`), so the network is not timed:
#   1. one Lambda alone, from a clean target/;
#   2. all 50 cold (`rm -rf target`), --jobs = the number of cores;
#   3. all 50 again, nothing changed;
#   4. all 50 after one handler's code changed (exactly that zip rebuilt);
#   5. the bytes of target/ in bundle and in layer mode.
# Each time is the median of RUNS runs (5). Prints a markdown table.
#
# Usage:  bench/builds.sh        (needs uv on PATH, and python3 3.10+)
# Environment: LAMBDAS (50), RUNS (5), NO_BUILD=1 (use the binary that is there),
#   BIN (lambda-scaffold to use: target/release/lambda-scaffold)
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
BIN="${BIN:-$ROOT/target/release/lambda-scaffold}"
LAMBDAS="${LAMBDAS:-50}"
RUNS="${RUNS:-5}"
WHEELS="$BENCH/out/wheelhouse"

[ "${NO_BUILD:-}" = 1 ] || cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" >&2
command -v uv >/dev/null || { echo "error: uv is not on PATH (pip install uv)" >&2; exit 1; }
if [ ! -d "$WHEELS" ]; then
    python3 -m pip download --quiet requests pydantic --only-binary=:all: \
        --platform manylinux_2_34_x86_64 --platform manylinux2014_x86_64 \
        --python-version 3.13 --implementation cp -d "$WHEELS.tmp" >&2
    mv "$WHEELS.tmp" "$WHEELS"
fi
export PIP_EXTRA_ARGS="--no-index --find-links $WHEELS"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$BIN" new-project svc --output-dir "$work" --bare --no-input --python 3.13 --arch x86_64 >/dev/null
project="$work/svc"
for i in $(seq -w 1 "$LAMBDAS"); do
    "$BIN" add-handler producers "fn_$i" --project "$project" >/dev/null
done
printf 'requests\npydantic\n' >"$project/requirements.txt"
(cd "$project" && ./build.sh --lock >/dev/null 2>&1)

# median SECONDS of RUNS runs of: bash -c "$1" (in the project), after bash -c "$2"
median() {
    local times=() i start end
    for ((i = 0; i < RUNS; i++)); do
        (cd "$project" && bash -c "$2")
        start=$(date +%s.%N)
        (cd "$project" && bash -c "$1" >/dev/null 2>&1)
        end=$(date +%s.%N)
        times+=("$(echo "$end - $start" | bc)")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}

one=$(median "./build.sh --local fn_01 ./producers/fn_01" "rm -rf target")
cold=$(median "./build.sh --all --local" "rm -rf target")
noop=$(median "./build.sh --all --local" "./build.sh --all --local >/dev/null 2>&1")
touched=$(median "./build.sh --all --local" "./build.sh --all --local >/dev/null 2>&1; echo '# edit '\$RANDOM >>producers/fn_07/producers.py")
rebuilt=$(cd "$project" && echo "# once more" >>producers/fn_07/producers.py && ./build.sh --all --local 2>/dev/null | grep -vc '(unchanged)$' || true)
bundle_bytes=$(du -cb "$project"/target/*.zip | tail -1 | cut -f1)
one_zip=$(stat -c %s "$project/target/fn_01.zip")
sed -i 's/^ci = /dependencies = "layer"\nci = /' "$project/lambdas.toml"
(cd "$project" && rm -rf target && ./build.sh --all --local >/dev/null 2>&1)
layer_bytes=$(du -cb "$project"/target/*.zip | tail -1 | cut -f1)
layer_zip=$(stat -c %s "$project/target/dependencies.zip")
code_bytes=$(du -cb "$project"/target/fn_*.zip | tail -1 | cut -f1)

ratio() { echo "scale=2; $1 / $2" | bc; }
cat <<EOF
| $LAMBDAS Lambdas, lock: requests + pydantic | measured | target |
|---|---|---|
| one Lambda alone, clean target/ | ${one} s | |
| all, cold (\`rm -rf target\`), --jobs $(nproc) | ${cold} s ($(ratio "$cold" "$one")x one Lambda) | <= 2x one Lambda |
| all, nothing changed | ${noop} s | <= 0.5 s |
| all, one handler changed | ${touched} s, ${rebuilt} zip rebuilt | <= 1.5x no-op + one Lambda's zip |
| bundle mode: bytes of target/*.zip | ${bundle_bytes} ($LAMBDAS x ${one_zip}) | |
| layer mode: layer + $LAMBDAS zips | ${layer_bytes} (layer ${layer_zip}, code ${code_bytes}; $(ratio "$layer_bytes" "$((layer_zip + code_bytes))")x) | <= 1.2x layer + code |
EOF
