#!/usr/bin/env python3
"""Turns one bench/run.sh run directory into markdown: the table and the targets on
stdout (bench/out/latest.md); with --benchmarks PATH, also the whole BENCHMARKS.md.

Reads RUN/rows.tsv (slug, label, command), RUN/<slug>.round<r>.json (hyperfine's export),
RUN/rss.tsv (slug, peak RSS in kB) and RUN/meta.tsv (key, value).
"""

import argparse
import glob
import json
import os
import re
import statistics
import string
import sys

RSS_LIMIT_BYTES = 10_000_000  # "< 10 MB", decimal: the stricter reading


def lines(path):
    with open(path) as fh:
        return fh.read().splitlines()


def load(run):
    rows = [line.split("\t") for line in lines(os.path.join(run, "rows.tsv"))]
    meta = dict(line.split("\t", 1) for line in lines(os.path.join(run, "meta.tsv")))
    rss = {}
    for line in lines(os.path.join(run, "rss.tsv")):
        slug, kb = line.split("\t")
        rss[slug] = int(kb)
    times, rounds = {}, {}
    for slug, _, _ in rows:
        files = sorted(glob.glob(os.path.join(run, slug + ".round*.json")),
                       key=lambda p: int(re.search(r"round(\d+)", p).group(1)))
        times[slug], rounds[slug] = [], []
        for f in files:
            with open(f) as fh:
                t = json.load(fh)["results"][0]["times"]
            times[slug] += t
            rounds[slug].append(statistics.median(t))
    return rows, meta, rss, times, rounds


def reference(slug):
    """(slug of the row that this row's ratio is taken to, its short name) or None."""
    if slug in ("ls-new", "cookiecutter", "copier", "sam-init"):
        return "cp-floor", "cp -r"
    m = re.fullmatch(r"add-(\d+)", slug)
    if m and m.group(1) != "0":
        return "add-0", "fresh"
    m = re.fullmatch(r"(list|check)-(\d+)", slug)
    if m:
        return "find-" + m.group(2), "find"
    return None


def ms(seconds):
    return "%.1f" % (seconds * 1e3) if seconds >= 0.0095 else "%.2f" % (seconds * 1e3)


def ratio_text(r):
    return ("%.1f×" if r >= 9.95 else "%.2f×") % r


def mb(kb):
    return kb * 1024 / 1e6


def table(rows, rss, times, rounds):
    med = {s: statistics.median(t) for s, t in times.items()}
    out = [("| row | timed command (in the project or an empty dir) | median ms | mean ± sd ms | min ms "
           "| runs | median per round ms | median / reference | peak RSS MB |"),
           "|---|---|---:|---:|---:|---:|---|---:|---:|"]
    for slug, label, cmd in rows:
        t = times[slug]
        sd = statistics.stdev(t) if len(t) > 1 else 0.0
        ref = reference(slug)
        ratio = ratio_text(med[slug] / med[ref[0]]) + " " + ref[1] if ref and ref[0] in med else ""
        cmd = re.sub(r"\S*/target/release/lambda-scaffold", "lambda-scaffold", cmd)
        cmd = re.sub(r"\S*/\.venv/bin/", "", cmd)
        per_round = " / ".join(ms(m) for m in rounds[slug])
        peak = f"{mb(rss[slug]):.1f}" if slug in rss else ""
        out.append(f"| {label} | `{cmd}` | {ms(med[slug])} | {ms(statistics.mean(t))} ± {ms(sd)} "
                   f"| {ms(min(t))} | {len(t)} | {per_round} | {ratio} | {peak} |")
    return "\n".join(out), med


def targets(med, rss):
    """Markdown table of the issue's targets; and the list of failures."""
    rows, fails = [], []

    def ratio_target(what, num, den, limit, den_name):
        if num not in med or den not in med:
            rows.append(f"| {what} | not measured | ≤ {limit}× | — |")
            return
        r = med[num] / med[den]
        ok = r <= limit
        verdict = "PASS" if ok else "FAIL (%.1f× the limit)" % (r / limit)
        rows.append(f"| {what} | {ms(med[num])} / {ms(med[den])} ms = {ratio_text(r)} | ≤ {limit}× {den_name} | {verdict} |")
        if not ok:
            fails.append(f"{what}: {ratio_text(r)}, limit {limit}× ({r / limit:.1f}× over)")

    ratio_target("new-project vs its `cp -r` floor", "ls-new", "cp-floor", 1.5, "cp -r")
    ratio_target("add-handler at 1,000 handlers vs fresh project", "add-1000", "add-0", 1.2, "fresh")
    ratio_target("add-handler at 10,000 handlers vs fresh project", "add-10000", "add-0", 2, "fresh")
    ratio_target("list at 10,000 handlers vs `find` floor", "list-10000", "find-10000", 0.25, "find")
    ratio_target("check at 10,000 handlers vs `find` floor", "check-10000", "find-10000", 1.5, "find")
    if "ls-new" in rss:
        b = rss["ls-new"] * 1024
        ok = b < RSS_LIMIT_BYTES
        verdict = "PASS" if ok else f"FAIL ({b / RSS_LIMIT_BYTES:.1f}× the limit)"
        rows.append(f"| new-project peak RSS | {b / 1e6:.1f} MB ({rss['ls-new']} KiB) | < 10 MB | {verdict} |")
        if not ok:
            fails.append(f"new-project peak RSS: {b / 1e6:.1f} MB, limit 10 MB")
    head = ["| target | measured (medians of this run) | limit | result |", "|---|---|---|---|"]
    return "\n".join(head + rows), fails


def runs_line(rows, times):
    by = {}
    for slug, label, _ in rows:
        by.setdefault(len(times[slug]), []).append(label)
    return "; ".join(f"{n} runs: {', '.join(labels)}" for n, labels in sorted(by.items(), reverse=True))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--benchmarks", help="also write BENCHMARKS.md here")
    a = ap.parse_args()
    rows, meta, rss, times, rounds = load(a.run)
    tab, med = table(rows, rss, times, rounds)
    tgt, fails = targets(med, rss)
    size = int(meta["binary_bytes"])
    machine = [
        "- {} CPUs (`nproc`), {}, {}, {} RAM".format(meta["nproc"], meta["cpu"], meta["kernel"], meta["memory"]),
        "- timed trees on {}; load average before / after: {}; timing took {} s".format(
            meta["tmp"], meta["load"], meta["seconds"]),
        "- lambda-scaffold at {}, {}; {}".format(meta["commit"], meta["rustc"], meta["hyperfine"]),
        "- cookiecutter {}, copier {}, AWS SAM CLI {} (Python {}); {}; {}".format(
            meta["cookiecutter"], meta["copier"], meta.get("sam", "-"), meta["python"], meta["cp"], meta["find"]),
    ]
    summary = "\n".join([
        "# lambda-scaffold benchmark, {}".format(meta["stamp"]),
        "",
        *machine,
        f"- release binary `{meta['binary']}`: {size} bytes ({size / 1e6:.2f} MB)",
        "- {} round(s), {} warmup runs per row and round; {}".format(
            meta["rounds"], meta["warmup"], runs_line(rows, times)),
        "",
        tab,
        "",
        "## Targets",
        "",
        tgt,
        "",
        ("Failing: " + "; ".join(fails) + ".") if fails else "All targets pass.",
        "",
    ])
    print(summary)
    if a.benchmarks:
        write_benchmarks(a.benchmarks, meta, rows, times, tab, tgt, fails, machine, size)


def write_benchmarks(path, meta, rows, times, tab, tgt, fails, machine, size):
    sizes = meta["sizes"].split()
    text = string.Template("""# Benchmarks

How fast `lambda-scaffold` is next to cookiecutter, copier, `sam init` and the plain
file-system floors, and whether it meets the targets of issue 6. Written by `bench/run.sh --write`
(run ${stamp}); the numbers below are from that one run.

## How to run

```sh
bench/run.sh            # ~2-3 min (more when it builds); the table on stdout and in bench/out/latest.md
bench/run.sh --write    # the same, and rewrites this file
ROUNDS=1 BIG_RUNS=7 PEER_RUNS=7 bench/run.sh    # quicker, noisier
STRACE=1 bench/run.sh   # also strace -c -f of each lambda-scaffold row, in bench/out/run-*/
```

It builds the release binary (`cargo build --release`), installs cookiecutter ${cookiecutter},
copier ${copier} and AWS SAM CLI ${sam} into `bench/.venv` if missing (git-ignored), and needs `hyperfine`,
`/usr/bin/time` (GNU time) and Python 3. The peer templates are read from
`../shared/bench/peers` (`PEERS=` to change). `bench/run.sh --help` lists the knobs.

## Method

- **Timer**: hyperfine with `-N` (no shell: each command is exec'd directly, so process
  start-up is in every row and no shell start-up is). Every row has its own working dir on
  tmpfs (`/dev/shm`), and its `--prepare` (run through `/bin/sh -c`, untimed) puts that
  dir back in the same state before every run, warmups included. Rows are timed
  round-robin in ${rounds} rounds, each row's runs split across them, so drift in the machine's
  speed reaches all rows alike; ratios are taken between medians of the same run.
- **new-project**: `lambda-scaffold new-project my-service --layout log-centric --no-input`,
  `cookiecutter --no-input TEMPLATE` and `copier copy --defaults --trust --quiet TEMPLATE my-service`,
  each run in an empty dir (prepare: `find DIR -mindepth 1 -delete`). The peer templates
  (`shared/bench/peers/{cookiecutter,copier}`, the same log-centric project) are copied to
  tmpfs first; cookiecutter's config and replay dir point into the scratch dir.
- **sam init**: `sam init --name my-service --runtime python3.13 --dependency-manager pip
  --app-template hello-world --no-interactive` (plus `--no-tracing --no-application-insights
  --no-structured-logging`), telemetry off, in an empty dir. With no network it tries to
  clone its template repository, fails at once and falls back to the copy bundled in the
  package. Its output is a different, smaller project (one function, 9 files): the row is
  there for scale, not as an equivalent.
- **`cp -r` floor**: lambda-scaffold's own output (${new_files} files) is generated once; the row
  times `cp -r SRC my-service` into an empty dir, SRC on the same tmpfs.
- **add-handler**: `lambda-scaffold add-handler producers error_event` inside a project;
  prepare undoes the previous run: `rm -rf producers/error_event test/producers/error_event`,
  its record file, and `cp SAVED/lambdas.toml SAVED/template.yaml .` (copies saved before
  timing), so every run adds the handler's part to `template.yaml` (appends it: `Resources` is its
  last section) rather than rewriting it. After the timing the script checks
  that each big tree is exactly as before (paths, modes and sizes). "fresh" is the project
  that `new-project` makes (2 example handlers).
- **Big projects** (${sizes} added handlers): `bench/make_project.py` makes what `new-project`
  followed by N `add-handler` calls would leave, handlers alternating producer `event_00001`,
  consumer `sink_00002`, … (so N + 2 handlers with the two examples); every fourth is a
  consumer `--event sqs`, so a quarter of the `[[handlers]]` entries carry `event = "sqs"`.
  It renders each handler from a seed handler of its kind and source that the real binary
  generated, with the name (and its UpperCamelCase form) substituted: its files, record file,
  `[[handlers]]` entry, and its marked part of `template.yaml` (appended at its end, where
  `Resources` ends; the hash in the begin marker computed again). With 10,000 handlers
  `template.yaml` is about 9.3 MB. Every run checks it against 4 real `add-handler` calls byte for byte
  (contents and modes); when it (re)builds a cached project it also checks that N plus one
  real `add-handler` equals its own N + 1; and `lambda-scaffold check` must exit 0 on each
  big project. They are cached in `bench/out/scale/nN/` (rebuilt when the binary's output
  changes) and copied once per run to tmpfs, where all scale rows run.
- **list / check**: `lambda-scaffold list` and `lambda-scaffold check` in the big project's
  root (output to /dev/null, as hyperfine does for every row).
- **`find` floor**: `find . -name '*.py'` in the same project root, exec'd directly
  (`-N`), its stdout to /dev/null: one walk of the whole tree, names only, no file read.
- **Peak RSS**: one run of each lambda-scaffold row under `/usr/bin/time -v`, after the
  row's prepare; "Maximum resident set size" in KiB, shown in MB (10^6 bytes).
- **Runs**: ${runs}. Warmup: ${warmup} per row and round.

## Machine

${machine}

## Results

Release binary `${binary}`: ${size} bytes (${size_mb} MB).

${table}

"median / reference": new-project rows against the `cp -r` floor, add-handler rows against
the fresh project, list and check against the `find` floor at the same size.

## Targets

${targets}

${verdict}
""").substitute(
        stamp=meta["stamp"], cookiecutter=meta["cookiecutter"], copier=meta["copier"], sam=meta.get("sam", "-"),
        rounds=meta["rounds"], sizes=" and ".join(f"{int(n):,}" for n in sizes),
        new_files=meta.get("new_files", "?"),
        runs=runs_line(rows, times), warmup=meta["warmup"], machine="\n".join(machine),
        binary=meta["binary"], size=size, size_mb=f"{size / 1e6:.2f}", table=tab, targets=tgt,
        verdict=("Failing: " + "; ".join(fails) + ".") if fails else "All targets pass.")
    # Prose that no run measures (what changed to reach the targets) is kept
    # beside this script and appended as it is.
    # bench/builds.md holds the build benchmark's section (bench/builds.sh).
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("how-the-targets-were-reached.md", "builds.md"):
        notes = os.path.join(here, name)
        if os.path.exists(notes):
            with open(notes) as fh:
                text += "\n" + fh.read()
    with open(path, "w") as fh:
        fh.write(text)


if __name__ == "__main__":
    sys.exit(main())
