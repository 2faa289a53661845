#!/usr/bin/env bash
# Times ./build.sh on a project of 50 Lambdas whose lock holds requests and
# pydantic (issue 13 item 6), wheels served from a local wheelhouse made once
# (bench/out/wheelhouse-X.Y, by `pip download`), so the network is not timed.
# The project's runtime is the host's python (X.Y), so the zips hold bytecode
# (the default) and `sam build` can run the same functions:
#   1. one Lambda alone, from a clean target/;
#   2. all 50 cold (`rm -rf target`), --jobs = the number of cores;
#   3. all 50 again, nothing changed;
#   4. all 50 after one handler's code changed (exactly that zip rebuilt);
#   5. the bytes of target/ in bundle and in layer mode;
#   6. the import time of a handler whose module imports pydantic, from its
#      extracted zip with and without bytecode (fresh processes, `python -B`:
#      nothing written, as /var/task is read-only in Lambda);
#   7. if SAM is given (a `sam` command), `sam build --cached --parallel` of
#      the same 50 functions (each a folder with its handler and the lock's
#      pins), cold and again with nothing changed.
# Each time is the median of RUNS runs (5); imports, of IMPORTS runs (15);
# sam builds, of SAM_RUNS runs (RUNS).
# Prints a markdown table.
#
# Usage:  bench/builds.sh        (needs uv on PATH, and python3 3.10+)
# Environment: LAMBDAS (50), RUNS (5), IMPORTS (15), NO_BUILD=1 (use the binary
#   that is there), BIN (lambda-scaffold to use: target/release/lambda-scaffold),
#   SAM (path of `sam`, e.g. a venv's bin/sam; unset: not timed), SAM_RUNS
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
BIN="${BIN:-$ROOT/target/release/lambda-scaffold}"
LAMBDAS="${LAMBDAS:-50}"
RUNS="${RUNS:-5}"
IMPORTS="${IMPORTS:-15}"
PY="$(python3 -c 'import sys; print(*sys.version_info[:2], sep=".")')"
WHEELS="$BENCH/out/wheelhouse-$PY"

[ "${NO_BUILD:-}" = 1 ] || cargo build --release --locked --manifest-path "$ROOT/Cargo.toml" >&2
command -v uv >/dev/null || { echo "error: uv is not on PATH (pip install uv)" >&2; exit 1; }
if [ ! -d "$WHEELS" ]; then
    python3 -m pip download --quiet requests pydantic --only-binary=:all: \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --python-version "$PY" --implementation cp -d "$WHEELS.tmp" >&2
    mv "$WHEELS.tmp" "$WHEELS"
fi
export PIP_EXTRA_ARGS="--no-index --find-links $WHEELS"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$BIN" new-project svc --output-dir "$work" --bare --no-input --python "$PY" --arch x86_64 >/dev/null
project="$work/svc"
for i in $(seq -w 1 "$LAMBDAS"); do
    "$BIN" add-handler producers "fn_$i" --project "$project" >/dev/null
done
printf 'requests\npydantic\n' >"$project/requirements.txt"
# fn_01's module imports pydantic and defines a model at import time.
printf '\nfrom pydantic import BaseModel\n\n\nclass Order(BaseModel):\n    id: int\n    amount: float\n' \
    >>"$project/producers/fn_01/producers.py"
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

# The import of fn_01's handler from its zip, with bytecode (the build above)
# and without (bytecode = false).
mkdir "$work/with" "$work/without"
python3 -m zipfile -e "$project/target/fn_01.zip" "$work/with"
sed -i 's/^ci = /bytecode = false\nci = /' "$project/lambdas.toml"
(cd "$project" && ./build.sh --local fn_01 ./producers/fn_01 >/dev/null 2>&1)
python3 -m zipfile -e "$project/target/fn_01.zip" "$work/without"
sed -i '/^bytecode = false$/d' "$project/lambdas.toml"
imports=$(python3 - "$IMPORTS" "$work/with" "$work/without" <<'EOF'
import statistics, subprocess, sys
probe = ("import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); "
         "import producers; print(time.perf_counter() - t)")
times = {root: [] for root in sys.argv[2:]}
for _ in range(int(sys.argv[1])):
    for root in times:
        out = subprocess.run([sys.executable, "-I", "-B", "-c", probe, root],
                             check=True, capture_output=True, text=True).stdout
        times[root].append(float(out) * 1000)
print(*(f"{statistics.median(t):.0f}" for t in times.values()))
EOF
)
read -r import_with import_without <<<"$imports"

sed -i 's/^ci = /dependencies = "layer"\nci = /' "$project/lambdas.toml"
(cd "$project" && rm -rf target && ./build.sh --all --local >/dev/null 2>&1)
layer_bytes=$(du -cb "$project"/target/*.zip | tail -1 | cut -f1)
layer_zip=$(stat -c %s "$project/target/dependencies.zip")
code_bytes=$(du -cb "$project"/target/fn_*.zip | tail -1 | cut -f1)

# The same functions for `sam build`: a folder each, with the handler module
# and the lock's pins (sam's pip installs them per function).
sam_cold="" sam_noop=""
if [ -n "${SAM:-}" ]; then
    sam_dir="$work/sam"
    mkdir "$sam_dir"
    pins=$(grep -E '^[A-Za-z0-9_.-]+==' "$project/requirements.lock" | cut -d' ' -f1)
    {
        printf 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\nResources:\n'
        for i in $(seq -w 1 "$LAMBDAS"); do
            mkdir "$sam_dir/fn_$i"
            cp "$project/producers/fn_$i/producers.py" "$sam_dir/fn_$i/app.py"
            printf '%s\n' "$pins" >"$sam_dir/fn_$i/requirements.txt"
            printf '  Fn%s:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: fn_%s/\n      Handler: app.fn_%s\n      Runtime: python%s\n      Architectures: [x86_64]\n' "$i" "$i" "$i" "$PY"
        done
    } >"$sam_dir/template.yaml"
    sam_times() {
        local i start end times=()
        for ((i = 0; i < ${SAM_RUNS:-$RUNS}; i++)); do
            (cd "$sam_dir" && bash -c "$1")
            start=$(date +%s.%N)
            (cd "$sam_dir" && PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELS" SAM_CLI_TELEMETRY=0 \
                "$SAM" build --cached --parallel >/dev/null 2>&1)
            end=$(date +%s.%N)
            times+=("$(echo "$end - $start" | bc)")
        done
        printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((${SAM_RUNS:-$RUNS} + 1) / 2))p"
    }
    sam_cold=$(sam_times "rm -rf .aws-sam")
    sam_noop=$(sam_times "true")
fi

ratio() { echo "scale=2; $1 / $2" | bc; }
cat <<EOF
| $LAMBDAS Lambdas, lock: requests + pydantic, python$PY | measured | target |
|---|---|---|
| one Lambda alone, clean target/ | ${one} s | |
| all, cold (\`rm -rf target\`), --jobs $(nproc) | ${cold} s ($(ratio "$cold" "$one")x one Lambda) | <= 2x one Lambda |
| all, nothing changed | ${noop} s | <= 0.5 s |
| all, one handler changed | ${touched} s, ${rebuilt} zip rebuilt | <= 1.5x no-op + one Lambda's zip |
| bundle mode: bytes of target/*.zip | ${bundle_bytes} ($LAMBDAS x ${one_zip}) | |
| layer mode: layer + $LAMBDAS zips | ${layer_bytes} (layer ${layer_zip}, code ${code_bytes}; $(ratio "$layer_bytes" "$((layer_zip + code_bytes))")x) | <= 1.2x layer + code |
| import of a handler importing pydantic, from its zip | ${import_with} ms with bytecode, ${import_without} ms without | bytecode the default if it wins |
EOF
if [ -n "$sam_cold" ]; then
    echo "| \`sam build --cached --parallel\`, same $LAMBDAS functions | cold ${sam_cold} s, nothing changed ${sam_noop} s | |"
fi
