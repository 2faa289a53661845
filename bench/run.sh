#!/usr/bin/env bash
# Times lambda-scaffold against cookiecutter, copier and physical floors, in one run:
#   1. new-project (release binary) vs cookiecutter and copier on the equivalent templates
#      in ../shared/bench/peers, `sam init` (AWS SAM CLI's bundled python hello-world, a
#      different and smaller project: for scale only), and `cp -r` of lambda-scaffold's own
#      output tree;
#   2. add-handler producers error_event in a fresh project and in projects with 1,000 and
#      10,000 added handlers (made by make_project.py, exactly what repeated add-handler
#      writes; cached in bench/out/scale/);
#   3. list and check at those sizes, against the floor `find . -name '*.py'` (stdout to
#      /dev/null) over the same project;
#   4. peak RSS (/usr/bin/time -v) of every lambda-scaffold row, one run each.
# Writes a markdown table to bench/out/latest.md (and prints it); --write also rewrites
# BENCHMARKS.md at the repository root.
#
# Usage:  bench/run.sh [--write]
# Environment (all optional):
#   ROUNDS       rows are timed round-robin in this many rounds, runs split across them (3)
#   WARMUP       untimed runs per row and round (2)
#   FAST_RUNS    runs of the ms-scale rows: new-project, cp -r, add-handler fresh (60)
#   PEER_RUNS    runs of cookiecutter, copier and sam init (21)
#   SCALE_RUNS   runs of each row at a size <= 2000 handlers (30)
#   BIG_RUNS     runs of each row at a larger size (21)
#   SIZES        handler counts of the scale rows ("1000 10000"); targets need both
#   BENCH_TMP    where the timed trees go (/dev/shm when it is a writable tmpfs, else /tmp)
#   PEERS        the peer templates (../shared/bench/peers beside this repository)
#   NO_BUILD=1   skip `cargo build --release` (use the binary that is there)
#   STRACE=1     also write `strace -c -f` summaries of each lambda-scaffold row to the run dir
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
OUT="$BENCH/out"
BIN="$ROOT/target/release/lambda-scaffold"
VENV="$BENCH/.venv"
PEERS="${PEERS:-$ROOT/../shared/bench/peers}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2}"
FAST_RUNS="${FAST_RUNS:-60}"
PEER_RUNS="${PEER_RUNS:-21}"
SCALE_RUNS="${SCALE_RUNS:-30}"
BIG_RUNS="${BIG_RUNS:-21}"
read -r -a SIZES <<< "${SIZES:-1000 10000}"
COOKIECUTTER_VERSION=2.7.1
COPIER_VERSION=9.19.1
SAM_CLI_VERSION=1.170.0

WRITE=0
for arg in "$@"; do
  case "$arg" in
    --write) WRITE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument \`$arg\`" >&2; echo "hint: bench/run.sh [--write]" >&2; exit 2 ;;
  esac
done

die() { echo "run.sh: $*" >&2; exit 1; }
q() { printf '%q' "$1"; }
log() { echo "== $*" >&2; }

command -v hyperfine >/dev/null || die "hyperfine is not installed (apt-get install hyperfine)"
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"
if [ ! -d "$PEERS/cookiecutter" ] || [ ! -d "$PEERS/copier" ]; then
  die "no peer templates under $PEERS (set PEERS)"
fi

# ---- the release binary
if [ "${NO_BUILD:-0}" != 1 ]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
fi
[ -x "$BIN" ] || die "no $BIN"

# ---- cookiecutter, copier and the AWS SAM CLI, pinned, in bench/.venv
venv_ok() {
  [ -x "$VENV/bin/cookiecutter" ] && [ -x "$VENV/bin/copier" ] && [ -x "$VENV/bin/sam" ] &&
    [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("cookiecutter"), m.version("copier"), m.version("aws-sam-cli"))' 2>/dev/null)" \
      = "$COOKIECUTTER_VERSION $COPIER_VERSION $SAM_CLI_VERSION" ]
}
if ! venv_ok; then
  log "installing cookiecutter==$COOKIECUTTER_VERSION copier==$COPIER_VERSION aws-sam-cli==$SAM_CLI_VERSION into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "cookiecutter==$COOKIECUTTER_VERSION" "copier==$COPIER_VERSION" "aws-sam-cli==$SAM_CLI_VERSION" ||
    die "pip install failed"
  venv_ok || die "$VENV does not have the pinned cookiecutter, copier and aws-sam-cli"
fi
# sam init sends no telemetry and, with no network, generates from its bundled templates
export SAM_CLI_TELEMETRY=0

# ---- scratch space (tmpfs) and results
if [ -z "${BENCH_TMP:-}" ]; then
  if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
    BENCH_TMP=/dev/shm
  else
    BENCH_TMP="${TMPDIR:-/tmp}"
  fi
fi
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RES="$OUT/run-$STAMP"
mkdir -p "$RES"
W="$(mktemp -d "$BENCH_TMP/lsbench.XXXXXX")"
trap 'rm -rf "$W"' EXIT
# the peers' templates, copied: shared/ stays untouched (and copier sees no git repository)
cp -r "$PEERS/cookiecutter" "$W/tpl-cookiecutter"
cp -r "$PEERS/copier" "$W/tpl-copier"
chmod -R u+w "$W/tpl-cookiecutter" "$W/tpl-copier"
# cookiecutter writes a replay file per run: keep it (and its config) out of $HOME
printf 'replay_dir: %s\ncookiecutters_dir: %s\n' "$W/cc-replay" "$W/cc-dirs" > "$W/cookiecutterrc"
export COOKIECUTTER_CONFIG="$W/cookiecutterrc"

# ---- the generator of big projects: check it against the real add-handler first
log "make_project.py --verify (N=4, byte for byte against 4 real add-handler calls, one with --event sqs)"
python3 "$BENCH/make_project.py" --bin "$BIN" --verify --n 4 >&2 || die "make_project.py does not match add-handler"

# ---- rows
# slug | label | runs | DIR (the command's working dir, never deleted) | PREP (sh code run
# before every run, warmups included) | command (a plain argv, run by hyperfine -N) |
# file that must exist after the sanity run | RSS (1: measure peak RSS) | AFTER (sh code run
# after the row's timing, "" for none)
SLUGS=() LABELS=() NRUNS=() DIRS=() PREPS=() CMDS=() CHECKS=() RSS=() AFTERS=()
add() {
  SLUGS+=("$1"); LABELS+=("$2"); NRUNS+=("$3"); DIRS+=("$4"); PREPS+=("$5"); CMDS+=("$6")
  CHECKS+=("$7"); RSS+=("$8"); AFTERS+=("$9")
  mkdir -p "$4"
}
empty() { echo "find $(q "$1") -mindepth 1 -delete"; }
# undo one add-handler producers error_event in project P: its two folders, its record file
# (.lambda-scaffold/generated/producers/error_event.sha256), and the manifest and
# template.yaml (copied back from folder SAVED)
undo_add() { echo "rm -rf $(q "$1/producers/error_event") $(q "$1/test/producers/error_event") $(q "$1/.lambda-scaffold/generated/producers/error_event.sha256") && cp $(q "$2/lambdas.toml") $(q "$2/template.yaml") $(q "$1/")"; }
save() { mkdir -p "$2" && cp "$1/lambdas.toml" "$1/template.yaml" "$2/"; }
LS="$(q "$BIN")"
NEW=(new-project my-service --layout log-centric --no-input)

# 1. new project
add ls-new "lambda-scaffold new-project" "$FAST_RUNS" "$W/new" "$(empty "$W/new")" \
  "$LS ${NEW[*]}" "$W/new/my-service/lambdas.toml" 1 ""
add cookiecutter "cookiecutter --no-input" "$PEER_RUNS" "$W/cc" "$(empty "$W/cc")" \
  "$(q "$VENV/bin/cookiecutter") --no-input $(q "$W/tpl-cookiecutter")" "$W/cc/my-service/build.sh" 0 ""
add copier "copier copy --defaults --trust" "$PEER_RUNS" "$W/cp" "$(empty "$W/cp")" \
  "$(q "$VENV/bin/copier") copy --defaults --trust --quiet $(q "$W/tpl-copier") my-service" \
  "$W/cp/my-service/build.sh" 0 ""
add sam-init "sam init (hello-world, python3.13)" "$PEER_RUNS" "$W/sam" "$(empty "$W/sam")" \
  "$(q "$VENV/bin/sam") init --name my-service --runtime python3.13 --dependency-manager pip --app-template hello-world --no-interactive --no-tracing --no-application-insights --no-structured-logging" \
  "$W/sam/my-service/template.yaml" 0 ""
mkdir -p "$W/tree"
(cd "$W/tree" && "$BIN" "${NEW[@]}" </dev/null >/dev/null) || die "new-project failed"
add cp-floor "floor: cp -r of lambda-scaffold's output" "$FAST_RUNS" "$W/cpr" "$(empty "$W/cpr")" \
  "cp -r $(q "$W/tree/my-service") my-service" "$W/cpr/my-service/lambdas.toml" 0 ""

# 2. add-handler in a fresh project, and 3. list/check at each size
mkdir -p "$W/n0"
(cd "$W/n0" && "$BIN" "${NEW[@]}" </dev/null >/dev/null) || die "new-project failed"
save "$W/n0/my-service" "$W/n0.saved"
add add-0 "add-handler, fresh project" "$FAST_RUNS" "$W/n0/my-service" \
  "$(undo_add "$W/n0/my-service" "$W/n0.saved")" "$LS add-handler producers error_event" \
  "$W/n0/my-service/producers/error_event/producers.py" 1 "$(undo_add "$W/n0/my-service" "$W/n0.saved")"
BUILT=()
for n in "${SIZES[@]}"; do
  runs="$SCALE_RUNS"; [ "$n" -le 2000 ] || runs="$BIG_RUNS"
  cache="$OUT/scale/n$n"
  t0="$EPOCHREALTIME"
  how="$(python3 "$BENCH/make_project.py" --bin "$BIN" --n "$n" --out "$cache" --reuse)" \
    || die "make_project.py --n $n failed"
  t1="$EPOCHREALTIME"
  if [ "$how" = built ]; then
    log "built $cache in $(python3 -c "print(round($t1 - $t0, 1))") s; checking N, one real add-handler, == N+1"
    python3 "$BENCH/make_project.py" --bin "$BIN" --verify-step --n "$n" >&2 || die "make_project.py --verify-step --n $n failed"
  fi
  BUILT+=("$n:$how")
  P="$W/n$n/my-service"
  mkdir -p "$W/n$n"
  cp -a "$cache/my-service" "$P"
  save "$P" "$W/n$n.saved"
  (cd "$P" && find . -printf '%p %m %s\n' | LC_ALL=C sort > "$W/n$n.listing")
  (cd "$P" && "$BIN" check >/dev/null) || die "lambda-scaffold check fails on the $n-handler project"
  add "add-$n" "add-handler, $n handlers" "$runs" "$P" "$(undo_add "$P" "$W/n$n.saved")" \
    "$LS add-handler producers error_event" "$P/producers/error_event/producers.py" 1 \
    "$(undo_add "$P" "$W/n$n.saved")"
  add "list-$n" "list, $n handlers" "$runs" "$P" "true" "$LS list" "$P/lambdas.toml" 1 ""
  add "check-$n" "check, $n handlers" "$runs" "$P" "true" "$LS check" "$P/lambdas.toml" 1 ""
  add "find-$n" "floor: find . -name '*.py', $n handlers" "$runs" "$P" "true" \
    "find . -name '*.py'" "$P/lambdas.toml" 0 ""
done

# ---- one sanity run per row: exit 0 and its file written
for i in "${!SLUGS[@]}"; do
  sh -c "${PREPS[$i]}" || die "prepare failed for ${SLUGS[$i]}"
  if ! bash -c "cd $(q "${DIRS[$i]}") && ${CMDS[$i]}" </dev/null >"$W/first.log" 2>&1; then
    cat "$W/first.log" >&2; die "${SLUGS[$i]} failed: ${CMDS[$i]}"
  fi
  [ -e "${CHECKS[$i]}" ] || die "${SLUGS[$i]} did not write ${CHECKS[$i]}"
  if [ -n "${AFTERS[$i]}" ]; then sh -c "${AFTERS[$i]}"; fi
done

# ---- timing, round-robin: each row gets ceil(runs / ROUNDS) runs per round
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
T_START="$EPOCHREALTIME"
for ((r = 1; r <= ROUNDS; r++)); do
  for i in "${!SLUGS[@]}"; do
    n=$(( (NRUNS[i] + ROUNDS - 1) / ROUNDS ))
    log "round $r/$ROUNDS: ${LABELS[$i]} ($n runs, $WARMUP warmup)"
    ( cd "${DIRS[$i]}" &&
      hyperfine -N --style none --warmup "$WARMUP" --runs "$n" \
        --prepare "/bin/sh -c $(q "${PREPS[$i]}")" \
        --export-json "$RES/${SLUGS[$i]}.round$r.json" --command-name "${LABELS[$i]}" \
        "${CMDS[$i]}" ) </dev/null || die "hyperfine failed on ${SLUGS[$i]}"
    if [ -n "${AFTERS[$i]}" ]; then sh -c "${AFTERS[$i]}"; fi
  done
done
T_END="$EPOCHREALTIME"
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# the add-handler rows must have left each big project as it was (PREP undid every run)
for n in "${SIZES[@]}"; do
  (cd "$W/n$n/my-service" && find . -printf '%p %m %s\n' | LC_ALL=C sort) | cmp -s - "$W/n$n.listing" \
    || die "the $n-handler project changed during the timing: undo_add misses something add-handler writes"
done

# ---- peak RSS, one run each, after the row's PREP
: > "$RES/rss.tsv"
for i in "${!SLUGS[@]}"; do
  [ "${RSS[$i]}" = 1 ] || continue
  sh -c "${PREPS[$i]}"
  bash -c "cd $(q "${DIRS[$i]}") && /usr/bin/time -v -o $(q "$W/time.txt") ${CMDS[$i]}" </dev/null >/dev/null 2>&1 \
    || die "/usr/bin/time -v failed on ${SLUGS[$i]}"
  kb="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$W/time.txt")"
  printf '%s\t%s\n' "${SLUGS[$i]}" "$kb" >> "$RES/rss.tsv"
  if [ "${STRACE:-0}" = 1 ] && command -v strace >/dev/null; then
    sh -c "${PREPS[$i]}"
    bash -c "cd $(q "${DIRS[$i]}") && strace -c -f -o $(q "$RES/strace-${SLUGS[$i]}.txt") ${CMDS[$i]}" </dev/null >/dev/null 2>&1 || true
  fi
  if [ -n "${AFTERS[$i]}" ]; then sh -c "${AFTERS[$i]}"; fi
done

# ---- what ran, where, with what
ver() { "$@" 2>/dev/null | head -n 1 || true; }
{
  printf 'stamp\t%s\n' "$STAMP"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu\t%s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  printf 'kernel\t%s\n' "$(uname -sr)"
  printf 'memory\t%s\n' "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  printf 'tmp\t%s (%s)\n' "$BENCH_TMP" "$(stat -f -c %T "$W")"
  printf 'load\t%s / %s\n' "$LOAD_BEFORE" "$LOAD_AFTER"
  printf 'seconds\t%s\n' "$(python3 -c "print(round($T_END - $T_START))")"
  printf 'rounds\t%s\n' "$ROUNDS"
  printf 'warmup\t%s\n' "$WARMUP"
  printf 'binary\t%s\n' "${BIN#"$ROOT"/}"
  printf 'binary_bytes\t%s\n' "$(stat -c %s "$BIN")"
  printf 'commit\t%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- src templates Cargo.toml Cargo.lock 2>/dev/null || echo ' (with uncommitted changes in src/, templates/ or Cargo.*)')"
  printf 'rustc\t%s\n' "$(ver rustc --version)"
  printf 'hyperfine\t%s\n' "$(ver hyperfine --version)"
  printf 'cookiecutter\t%s\n' "$(ver "$VENV/bin/cookiecutter" --version | cut -d' ' -f2)"
  printf 'copier\t%s\n' "$(ver "$VENV/bin/copier" --version | cut -d' ' -f2)"
  printf 'sam\t%s\n' "$(ver "$VENV/bin/sam" --version | cut -d' ' -f4)"
  printf 'python\t%s\n' "$(ver "$VENV/bin/python" --version | cut -d' ' -f2)"
  printf 'cp\t%s\n' "$(ver cp --version)"
  printf 'find\t%s\n' "$(ver find --version)"
  printf 'sizes\t%s\n' "${SIZES[*]}"
  printf 'new_files\t%s\n' "$(find "$W/tree/my-service" -type f | wc -l)"
  printf 'scale_cache\t%s\n' "${BUILT[*]}"
} > "$RES/meta.tsv"
for i in "${!SLUGS[@]}"; do
  printf '%s\t%s\t%s\n' "${SLUGS[$i]}" "${LABELS[$i]}" "${CMDS[$i]//"$W"/\$TMP}"
done > "$RES/rows.tsv"

WRITE_ARGS=()
[ "$WRITE" = 0 ] || WRITE_ARGS=(--benchmarks "$ROOT/BENCHMARKS.md")
python3 "$BENCH/summarize.py" "$RES" "${WRITE_ARGS[@]}" > "$RES/summary.md"
cp "$RES/summary.md" "$OUT/latest.md"
echo
cat "$RES/summary.md"
echo
echo "(written to ${RES#"$ROOT"/}/summary.md and bench/out/latest.md$([ "$WRITE" = 0 ] || echo '; BENCHMARKS.md rewritten'))"
