#!/usr/bin/env bash
# Build the deployment zips of {{ project_name }}'s Lambdas into target/.
#
# Both modes run the same code, tools/package_lambda.py: the Docker mode runs
# `./build.sh --local --native` inside the AWS SAM build image, the local mode
# runs it on this machine. The Python version, the architecture and the list of
# Lambdas come from lambdas.toml, the project's one source of build settings.
# Run `./build.sh --help` for the options.
set -euo pipefail

# Everything below is relative to the project root, wherever we are called from.
cd "$(dirname "${BASH_SOURCE[0]}")"

KINDS=({{ kinds | join(sep=" ") }})
MANIFEST=lambdas.toml
LAMBDA_BUILD_PYTHON="${LAMBDA_BUILD_PYTHON:-python3}"

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

# key = "value" or key = 'value' (no escapes), maybe followed by a comment.
readonly PLAIN_SETTING='^[[:space:]]*([A-Za-z0-9_-]+)[[:space:]]*=[[:space:]]*("([^"\]*)"|'\''([^'\'']*)'\'')[[:space:]]*(#.*)?$'
# key = true or key = false, maybe followed by a comment.
readonly BOOLEAN_SETTING='^[[:space:]]*([A-Za-z0-9_-]+)[[:space:]]*=[[:space:]]*(true|false)[[:space:]]*(#.*)?$'
readonly ANY_KEY='^[[:space:]]*["'\'']?([A-Za-z0-9_-]+)'
# requirements = ["name", 'name', ...] on one line: package names (PEP 508) only.
readonly PACKAGE_NAME='("[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"|'\''[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?'\'')'
readonly NOT_A_PACKAGE_LIST="\`requirements\` is not a one-line array of package names, e.g. \`requirements = [\"requests\"]\`"
readonly PACKAGE_LIST='^[[:space:]]*requirements[[:space:]]*=[[:space:]]*\[(([[:space:]]*'"$PACKAGE_NAME"'[[:space:]]*,)*([[:space:]]*'"$PACKAGE_NAME"'[[:space:]]*,?)?[[:space:]]*)\][[:space:]]*(#.*)?$'

manifest_error() {
    fail 1 "\`$MANIFEST\` line $1: $2" "run \`lambda-scaffold check\`; build.sh reads plain \`key = \"value\"\` lines"
}

# read_manifest: sets lambda_python, lambda_arch, lambda_dependencies,
# lambda_bytecode, lambdas ("NAME ./KIND/NAME" for each [[handlers]] entry, in
# order) and package_lists ("--packages NAME=a,b" for each entry with
# `requirements`) from lambdas.toml. Every value is checked against what it
# may be before it is used: nothing read here ever reaches the shell as code.
read_manifest() {
    [[ -f $MANIFEST ]] || fail 1 "\`$MANIFEST\` is missing" "run build.sh in a project made by lambda-scaffold"
    lambda_python=""
    lambda_arch=""
    lambda_dependencies=bundle
    # Bytecode in the zips by default: measured faster cold starts (bench/builds.md).
    lambda_bytecode=true
    lambdas=()
    lambda_count=0
    package_lists=()
    local line number=0 table="" key value kind="" name="" entry_line=0 packages="" listed=""
    local -a words
    while IFS= read -r line || [[ -n $line ]]; do
        number=$((number + 1))
        line="${line%$'\r'}"
        if [[ $line =~ ^[[:space:]]*(#.*)?$ ]]; then
            continue
        elif [[ $line =~ ^[[:space:]]*\[ ]]; then
            add_entry "$entry_line" "$table" "$kind" "$name" "$listed" "$packages"
            table=other
            kind=""
            name=""
            listed=""
            packages=""
            entry_line=$number
            if [[ $line =~ ^[[:space:]]*\[\[[[:space:]]*handlers[[:space:]]*\]\][[:space:]]*(#.*)?$ ]]; then
                table=handlers
            fi
        elif [[ $line =~ $PLAIN_SETTING ]]; then
            key="${BASH_REMATCH[1]}"
            value="${BASH_REMATCH[3]}${BASH_REMATCH[4]}"
            case "$table:$key" in
                :python) lambda_python="$value" ;;
                :arch) lambda_arch="$value" ;;
                :dependencies) lambda_dependencies="$value" ;;
                handlers:kind) kind="$value" ;;
                handlers:name) name="$value" ;;
                :bytecode) manifest_error "$number" "\`bytecode\` is written as a string; write \`bytecode = true\` or \`bytecode = false\`" ;;
                handlers:requirements) manifest_error "$number" "$NOT_A_PACKAGE_LIST" ;;
            esac
        elif [[ $line =~ $BOOLEAN_SETTING && -z $table && ${BASH_REMATCH[1]} == bytecode ]]; then
            lambda_bytecode="${BASH_REMATCH[2]}"
        elif [[ $table == handlers && $line =~ $PACKAGE_LIST ]]; then
            [[ -z $listed ]] || manifest_error "$number" "\`requirements\` is given twice"
            listed=yes
            # Only names, quotes, commas and blanks are left: split at the rest.
            read -r -a words <<<"${BASH_REMATCH[1]//[\"\',]/ }"
            packages="$(IFS=,; echo "${words[*]-}")"
        elif [[ $line =~ $ANY_KEY ]]; then
            case "$table:${BASH_REMATCH[1]}" in
                :python | :arch | :dependencies | :handlers | handlers:kind | handlers:name)
                    manifest_error "$number" "\`${BASH_REMATCH[1]}\` is not written as a plain string"
                    ;;
                :bytecode)
                    manifest_error "$number" "\`bytecode\` is neither \`true\` nor \`false\`"
                    ;;
                handlers:requirements) manifest_error "$number" "$NOT_A_PACKAGE_LIST" ;;
            esac
        fi
    done <"$MANIFEST"
    add_entry "$entry_line" "$table" "$kind" "$name" "$listed" "$packages"
    case "$lambda_python" in
        {{ python_versions | join(sep="|") }}) ;;
        *) fail 1 "\`$MANIFEST\` has no supported \`python\` setting (\`$lambda_python\`)" "set \`python\` to one of {{ python_versions | join(sep=", ") }}" ;;
    esac
    case "$lambda_arch" in
        x86_64 | arm64) ;;
        *) fail 1 "\`$MANIFEST\` has no supported \`arch\` setting (\`$lambda_arch\`)" "set \`arch\` to x86_64 or arm64" ;;
    esac
    case "$lambda_dependencies" in
        bundle | layer) ;;
        *) fail 1 "\`$MANIFEST\` has no supported \`dependencies\` setting (\`$lambda_dependencies\`)" "set \`dependencies\` to bundle (in every zip, the default) or layer (one target/dependencies.zip)" ;;
    esac
}

# add_entry LINE TABLE KIND NAME LISTED PACKAGES: records a [[handlers]] entry
# once it is read (LISTED: whether it has `requirements`, PACKAGES: them, a,b).
add_entry() {
    [[ $2 == handlers ]] || return 0
    local known
    for known in "${KINDS[@]}"; do
        if [[ $3 == "$known" ]]; then
            if [[ ! $4 =~ ^[a-z_][a-z0-9_]{0,63}$ ]]; then
                manifest_error "$1" "handler name \`$4\` is not a snake_case Python identifier"
            fi
            lambdas+=("$4" "./$3/$4")
            lambda_count=$((lambda_count + 1))
            if [[ -n $5 ]]; then
                package_lists+=(--packages "$4=$6")
            fi
            return 0
        fi
    done
    manifest_error "$1" "handler kind \`$3\` is not one of ${KINDS[*]}"
}

read_manifest
case "$lambda_arch" in
    x86_64) DOCKER_PLATFORM=linux/amd64 ;;
    arm64) DOCKER_PLATFORM=linux/arm64 ;;
esac
# The build image, pinned by version (set SAM_IMAGE to use another).
SAM_IMAGE="${SAM_IMAGE:-public.ecr.aws/sam/build-python${lambda_python}:{{ sam_image_version }}-${lambda_arch}}"

usage() {
    cat <<EOF
Build deployment zips for the Lambdas of this project into target/.

usage:
  ./build.sh NAME PATH            build target/NAME.zip in the AWS SAM build image (Docker)
  ./build.sh --local NAME PATH    build target/NAME.zip with python3 on this machine
  ./build.sh --all [--local] [--jobs N]
                                  build every Lambda listed in $MANIFEST, N zips at
                                  once (default: the number of cores)
  ./build.sh --list               print "NAME PATH" for every Lambda of $MANIFEST, one per line
  ./build.sh --lock               resolve requirements.txt for the Lambda runtime into
                                  requirements.lock (needs uv: see requirements-dev.txt)
  ./build.sh --check-lock         fail unless requirements.lock matches requirements.txt
                                  and $MANIFEST (CI runs it)
  ./build.sh -h | --help          show this help

PATH is the Lambda's folder in this project, for example ./${KINDS[0]}/my_lambda;
it holds ${KINDS[0]}.py, which defines my_lambda(event, context), and NAME is
the folder's name.

Every build installs exactly the packages and hashes of requirements.lock;
a lock that does not match requirements.txt (or python and arch) stops it.
With \`dependencies = "layer"\` in $MANIFEST (default "bundle"), the dependencies
go into one Lambda layer, target/dependencies.zip (under python/), and the
functions' zips hold only the project's code.
With \`bytecode = true\` (the default), the zips hold .pyc files compiled
deterministically (unchecked-hash) when the interpreter is the runtime's
python (always in Docker; with --local, a warning says when it is not);
\`bytecode = false\` ships sources only.
In bundle mode a [[handlers]] entry with \`requirements = ["requests"]\` gets a
zip holding only those locked packages and what they require.
A zip whose inputs did not change (its code, utils/, requirements.lock, the
packager, python, arch, dependencies, bytecode and its entry's requirements) is kept; the dependencies are installed and
compressed once per lock, in target/.cache. \`rm -rf target\` starts from scratch.
Each zip is printed with its size zipped and unzipped; one that unzips (with
its layer) over Lambda's 250 MB stops the build.
The local mode installs only wheels built for the Lambda runtime (python$lambda_python,
$lambda_arch, from $MANIFEST). The Docker mode installs inside the SAM build
image, the runtime's own platform, where packages that ship only source code
(an sdist) can be compiled too; it passes --native to the local mode.

environment:
  SAM_IMAGE            build image of the Docker mode (now: $SAM_IMAGE)
  PIP_EXTRA_ARGS       extra pip (and, for --lock, uv) options, e.g.
                       "--no-index --find-links ./wheels"
                       (the Docker mode mounts the project at /var/task)
  LAMBDA_BUILD_PYTHON  interpreter of the --local mode (now: $LAMBDA_BUILD_PYTHON)
EOF
}

# package_local [--native] NAME PATH [NAME PATH ...]
package_local() {
    if ! command -v "$LAMBDA_BUILD_PYTHON" >/dev/null 2>&1; then
        fail 1 "\`$LAMBDA_BUILD_PYTHON\` is not installed" "install Python 3.10 or newer, set LAMBDA_BUILD_PYTHON, or drop --local to build in Docker"
    fi
    local bytecode=""
    if [[ $lambda_bytecode == true ]]; then
        bytecode=--bytecode
    fi
    "$LAMBDA_BUILD_PYTHON" tools/package_lambda.py \
        --python-version "$lambda_python" \
        --arch "$lambda_arch" \
        ${bytecode:+"$bytecode"} \
        "$@"
}

# package_docker ARGS...: run `./build.sh --local --native ARGS...` in the SAM build image.
package_docker() {
    if ! command -v docker >/dev/null 2>&1; then
        fail 1 "\`docker\` is not installed" "install Docker, or build on this machine with \`./build.sh --local\`"
    fi
    # Without this check Docker's own errors about its socket would be all the
    # user sees, once per command.
    if ! docker info >/dev/null 2>&1; then
        fail 1 "cannot reach a Docker daemon (\`docker info\` failed)" "start Docker (and check that you may use it), or build on this machine with \`./build.sh --local\`"
    fi
    local image="lambda-scaffold-build:py${lambda_python}-${lambda_arch}-{{ project_name }}"
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
        --volume "$PWD:/var/task" \
        --workdir /var/task \
        "$image" "$@"
}

mode=docker
action=one
jobs=""
native=""
name=""
path=""
count=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --local) mode=local ;;
        --native) native=--native ;;
        --all) action=all ;;
        --jobs)
            [[ $# -gt 1 && $2 =~ ^[1-9][0-9]{0,3}$ ]] || usage_error "--jobs takes a number of zips to write at once, e.g. \`--jobs 4\`"
            jobs="$2"
            shift
            ;;
        --list) action=list ;;
        --lock) action=lock ;;
        --check-lock) action=check-lock ;;
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
if [[ -n $native && $mode != local ]]; then
    usage_error "--native goes with --local (the Docker mode passes it inside the SAM image)"
fi

case "$action" in
    lock | check-lock)
        [[ $count -eq 0 ]] || usage_error "--$action takes no NAME or PATH"
        # Resolving and checking need no build image: uv resolves for the
        # Lambda platform from any machine.
        package_local "--$action"
        ;;
    list)
        [[ $count -eq 0 ]] || usage_error "--list takes no NAME or PATH"
        if [[ $lambda_count -gt 0 ]]; then
            printf '%s %s\n' "${lambdas[@]}"
        fi
        ;;
    all)
        [[ $count -eq 0 ]] || usage_error "--all takes no NAME or PATH"
        if [[ $lambda_count -eq 0 ]]; then
            echo "nothing to build: $MANIFEST lists no [[handlers]]" >&2
            exit 0
        fi
        if [[ $mode == local ]]; then
            package_local --dependencies "$lambda_dependencies" ${native:+"$native"} ${jobs:+--jobs "$jobs"} ${package_lists[@]+"${package_lists[@]}"} -- "${lambdas[@]}"
        else
            package_docker --all ${jobs:+--jobs "$jobs"}
        fi
        ;;
    one)
        [[ $count -eq 2 ]] || usage_error "expected NAME and PATH, e.g. \`./build.sh my_lambda ./${KINDS[0]}/my_lambda\`"
        if [[ $mode == local ]]; then
            # The `requirements` of NAME's entry, if it has any.
            one_list=()
            for listed in ${package_lists[@]+"${package_lists[@]}"}; do
                if [[ $listed == "$name="* ]]; then
                    one_list=(--packages "$listed")
                fi
            done
            package_local --dependencies "$lambda_dependencies" ${native:+"$native"} ${one_list[@]+"${one_list[@]}"} -- "$name" "$path"
        else
            # The container sees the project at another path: name PATH from its root.
            case "$path" in
                "$PWD"/*) path="./${path#"$PWD"/}" ;;
            esac
            package_docker "$name" "$path"
        fi
        ;;
esac
