#!/usr/bin/env bash
# Runs a command with Docker ready for the tests of the generated projects'
# Docker build mode (tests/docker_build.rs):
#   usage: scripts/docker-test-env.sh COMMAND [ARGS...]
#
# - installs `docker.io` and `debootstrap` from Debian's packages when missing
#   (needs root; one `apt-get update` first);
# - starts `dockerd` when no daemon answers, and stops that daemon, by its pid,
#   once the last run that uses it ends (a daemon it did not start is left
#   alone);
# - builds the stand-in build image with debootstrap + `docker import` (Debian
#   bookworm: Python 3.11, pip, venv, a C compiler and Python's headers), or
#   reuses it when it is there; its tag is a hash of how it is made, so a
#   changed recipe gives a new image;
# - runs COMMAND with LAMBDA_SCAFFOLD_DOCKER_IMAGE naming that image.
#
# No registry is reachable from the machines this runs on, hence the image from
# debootstrap instead of the AWS SAM build image. Runs on the same machine share
# the daemon: one run at a time sets up, every run holds a shared lock while
# COMMAND runs, and the daemon is stopped only when no run holds it.
set -euo pipefail

suite=bookworm
packages=python3,python3-pip,python3-venv,python3-dev,gcc,libc6-dev,ca-certificates
recipe_hash=$(printf '%s %s' "$suite" "$packages" | sha256sum | cut -c1-12)
image="lambda-scaffold-stand-in:$suite-$recipe_hash"
state=/tmp/lambda-scaffold-docker
pid_file="$state/dockerd.pid"

say() { echo "docker-test-env: $*" >&2; }

[[ $# -gt 0 ]] || {
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
}

daemon_answers() { docker info >/dev/null 2>&1; }

# The Debian mirror apt is configured with (deb822 or one-line sources).
debian_mirror() {
    local mirror
    mirror=$(grep -hsoE '^(URIs:[[:space:]]*|deb[[:space:]]+)https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
        /etc/apt/sources.list /etc/apt/sources.list.d/* |
        grep -oE 'https?://[^[:space:]]+' | head -n 1 || true)
    echo "${mirror:-http://deb.debian.org/debian}"
}

install_missing_tools() {
    local missing=()
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
        missing+=(docker.io)
    fi
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    [[ ${#missing[@]} -gt 0 ]] || return 0
    if [[ $(id -u) -ne 0 ]]; then
        say "${missing[*]} missing and not root: cannot install them"
        return 1
    fi
    say "installing ${missing[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

start_daemon() {
    if [[ $(id -u) -ne 0 ]]; then
        say "no Docker daemon answers and not root: cannot start one"
        return 1
    fi
    say "starting dockerd (log: $state/dockerd.log)"
    # No bridge and no iptables rules: the build containers need no network,
    # and some machines refuse Docker's default network set-up.
    # The daemon must not inherit the locks: it outlives this run, and a lock
    # it held would keep every later run waiting.
    setsid dockerd --iptables=false --bridge=none >"$state/dockerd.log" 2>&1 </dev/null \
        {setup_fd}>&- {users_fd}>&- &
    echo $! >"$pid_file"
    local waited=0
    until daemon_answers; do
        if ! kill -0 "$(cat "$pid_file")" 2>/dev/null || [[ $waited -ge 60 ]]; then
            say "dockerd did not come up; its log:"
            tail -n 20 "$state/dockerd.log" >&2
            rm -f "$pid_file"
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

build_image() {
    docker image inspect "$image" >/dev/null 2>&1 && return 0
    local rootfs
    rootfs=$(mktemp -d "$state/rootfs.XXXXXX")
    say "building $image with debootstrap (a few minutes, once per machine)"
    if ! debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$(debian_mirror)" \
        >"$state/debootstrap.log" 2>&1; then
        say "debootstrap failed; its log ends:"
        tail -n 20 "$state/debootstrap.log" >&2
        rm -rf "$rootfs"
        return 1
    fi
    # apt's downloaded packages are not part of the image.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import --change 'ENV LANG=C.UTF-8' - "$image" >/dev/null
    rm -rf "$rootfs"
}

# Stop the daemon the test support started, unless another run still uses it.
# The set-up lock keeps a run from starting to use the daemon meanwhile.
# shellcheck disable=SC2329 # run by the EXIT trap
stop_daemon_when_unused() {
    flock -x "$setup_fd"
    flock -x -n "$users_fd" || return 0
    [[ -f "$pid_file" ]] || return 0
    local pid
    pid=$(cat "$pid_file")
    # Only a dockerd: the pid may have been reused since a run that crashed.
    if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] && kill "$pid"; then
        say "stopping the dockerd it started (pid $pid)"
        while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    rm -f "$pid_file"
}

mkdir -p "$state"
# One run at a time sets up; every run holds the users lock (shared) while
# COMMAND runs, and runs do not wait for each other.
exec {setup_fd}>"$state/setup.lock" {users_fd}>"$state/lock"
flock -x "$setup_fd"
trap stop_daemon_when_unused EXIT
install_missing_tools
daemon_answers || start_daemon
build_image
flock -s "$users_fd"
flock -u "$setup_fd"

export LAMBDA_SCAFFOLD_DOCKER_IMAGE="$image"
status=0
"$@" || status=$?
exit "$status"
