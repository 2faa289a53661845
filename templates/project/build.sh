#!/usr/bin/env bash
# Build the deployment zips of {{ project_name }}'s Lambdas into target/.
#
# Both modes run the same code, tools/package_lambda.py: the Docker mode runs
# `./build.sh --local` inside the AWS SAM build image, the local mode runs it
# on this machine. Run `./build.sh --help` for the options.
set -euo pipefail

# Everything below is relative to the project root, wherever we are called from.
cd "$(dirname "${BASH_SOURCE[0]}")"

default_python_version="{{ python_version }}"
default_arch="{{ arch }}"
KINDS=({{ kinds | join(sep=" ") }})

PYTHON_VERSION="${PYTHON_VERSION:-$default_python_version}"
LAMBDA_ARCH="${LAMBDA_ARCH:-$default_arch}"
PYTHON="${PYTHON:-python3}"
# The one place that names the build image; pin a dated tag here (or set
# SAM_IMAGE) for reproducible Docker builds.
SAM_IMAGE="${SAM_IMAGE:-public.ecr.aws/sam/build-python${PYTHON_VERSION}:latest-${LAMBDA_ARCH}}"

usage() {
    cat <<EOF
Build deployment zips for the Lambdas of this project into target/.

usage:
  ./build.sh NAME PATH            build target/NAME.zip in the AWS SAM build image (Docker)
  ./build.sh --local NAME PATH    build target/NAME.zip with python3 on this machine
  ./build.sh --all [--local]      build every Lambda
  ./build.sh --list               print "NAME PATH" for every Lambda, one per line
  ./build.sh -h | --help          show this help

PATH is the Lambda's folder, relative to the project root, for example
./${KINDS[0]}/my_lambda; it holds ${KINDS[0]}.py, which defines my_lambda(event, context).

environment:
  PYTHON_VERSION   Lambda runtime Python version (now: $PYTHON_VERSION)
  LAMBDA_ARCH      x86_64 or arm64 (now: $LAMBDA_ARCH)
  SAM_IMAGE        build image of the Docker mode (now: $SAM_IMAGE)
  PIP_EXTRA_ARGS   extra pip options, e.g. "--no-index --find-links ./wheels"
                   (the Docker mode mounts the project at /var/task)
  PYTHON           interpreter of the --local mode (now: $PYTHON)
EOF
}

# fail STATUS MESSAGE [HINT]: print an error (and a hint) and exit.
fail() {
    echo "error: $2" >&2
    if [[ $# -gt 2 ]]; then
        echo "hint: $3" >&2
    fi
    exit "$1"
}

usage_error() {
    fail 2 "$1" "run \`./build.sh --help\` for usage"
}

case "$LAMBDA_ARCH" in
    x86_64)
        PIP_PLATFORM=manylinux2014_x86_64
        DOCKER_PLATFORM=linux/amd64
        ;;
    arm64)
        PIP_PLATFORM=manylinux2014_aarch64
        DOCKER_PLATFORM=linux/arm64
        ;;
    *)
        fail 2 "LAMBDA_ARCH \`$LAMBDA_ARCH\` is not a Lambda architecture" "use x86_64 or arm64"
        ;;
esac

# Print "NAME PATH" for every folder <kind>/<name>/ that holds <kind>.py.
list_lambdas() {
    local kind dir name
    for kind in "${KINDS[@]}"; do
        for dir in "$kind"/*/; do
            dir="${dir%/}"
            name="${dir##*/}"
            if [[ -f "$dir/$kind.py" && "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
                printf '%s ./%s\n' "$name" "$dir"
            fi
        done
    done
}

# package_local NAME PATH [NAME PATH ...]
package_local() {
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        fail 1 "\`$PYTHON\` is not installed" "install Python 3.9 or newer, set PYTHON, or drop --local to build in Docker"
    fi
    "$PYTHON" tools/package_lambda.py \
        --python-version "$PYTHON_VERSION" \
        --platform "$PIP_PLATFORM" \
        -- "$@"
}

# package_docker ARGS...: run `./build.sh --local ARGS...` in the SAM build image.
package_docker() {
    if ! command -v docker >/dev/null 2>&1; then
        fail 1 "\`docker\` is not installed" "install Docker, or build on this machine with \`./build.sh --local\`"
    fi
    # Without this check Docker's own errors about its socket would be all the
    # user sees, once per command.
    if ! docker info >/dev/null 2>&1; then
        fail 1 "cannot reach a Docker daemon (\`docker info\` failed)" "start Docker (and check that you may use it), or build on this machine with \`./build.sh --local\`"
    fi
    local image="lambda-scaffold-build:py${PYTHON_VERSION}-${LAMBDA_ARCH}-{{ project_name }}"
    image="${image:0:150}"
    # The Dockerfile copies nothing, so it is sent without a build context.
    # Docker's progress goes to stderr: stdout lists the zips built, as in --local.
    docker build \
        --platform "$DOCKER_PLATFORM" \
        --build-arg "SAM_IMAGE=$SAM_IMAGE" \
        --tag "$image" \
        - <Dockerfile >&2
    # Run as the calling user so that target/ stays theirs; HOME=/tmp gives
    # pip a writable cache folder for that user.
    docker run --rm \
        --platform "$DOCKER_PLATFORM" \
        --user "$(id -u):$(id -g)" \
        --env HOME=/tmp \
        --env PIP_EXTRA_ARGS \
        --env "PYTHON_VERSION=$PYTHON_VERSION" \
        --env "LAMBDA_ARCH=$LAMBDA_ARCH" \
        --volume "$PWD:/var/task" \
        --workdir /var/task \
        "$image" "$@"
}

mode=docker
action=one
name=""
path=""
count=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --local) mode=local ;;
        --all) action=all ;;
        --list) action=list ;;
        -h | --help)
            usage
            exit 0
            ;;
        -*) usage_error "unknown option \`$1\`" ;;
        *)
            count=$((count + 1))
            if [[ $count -eq 1 ]]; then
                name="$1"
            else
                path="$1"
            fi
            ;;
    esac
    shift
done

case "$action" in
    list)
        [[ $count -eq 0 ]] || usage_error "--list takes no NAME or PATH"
        list_lambdas
        ;;
    all)
        [[ $count -eq 0 ]] || usage_error "--all takes no NAME or PATH"
        lambdas=()
        found=0
        while read -r lambda_name lambda_path; do
            lambdas+=("$lambda_name" "$lambda_path")
            found=$((found + 1))
        done < <(list_lambdas)
        if [[ $found -eq 0 ]]; then
            echo "nothing to build: no Lambda folder <kind>/<name>/ holding <kind>.py (kinds: ${KINDS[*]})" >&2
            exit 0
        fi
        if [[ $mode == local ]]; then
            package_local "${lambdas[@]}"
        else
            package_docker --all
        fi
        ;;
    one)
        [[ $count -eq 2 ]] || usage_error "expected NAME and PATH, e.g. \`./build.sh my_lambda ./${KINDS[0]}/my_lambda\`"
        if [[ $mode == local ]]; then
            package_local "$name" "$path"
        else
            package_docker "$name" "$path"
        fi
        ;;
esac
