"""The project's lock: ``requirements.txt`` resolved for Lambda's platform.

``requirements.txt`` is the human list of dependencies; ``requirements.lock``
is what every build installs: each package pinned (``name==version``) with the
sha256 hashes of its files, so that plain pip installs it with
``--require-hashes --no-deps`` and every Lambda of the project gets the same
bytes, today and next month.

``./build.sh --lock`` writes it (``tools/package_lambda.py --lock``) with uv's
resolver, which resolves for a target platform and Python version
(``uv pip compile --python-platform ... --python-version ...``) rather than for
the machine it runs on, as pip-tools would. uv comes from the project's dev
environment (``requirements-dev.txt``); it is needed only to write the lock,
never to build. uv names no platform for glibc 2.26 (Amazon Linux 2), so the
lock of python3.10 and 3.11 is resolved for manylinux2014 (glibc 2.17), the
newest platform of uv's that those runtimes load.

The lock's header records what it was resolved from: the sha256 of
``requirements.txt`` and the ``python`` and ``arch`` of ``lambdas.toml``, in
one line ``# lock-input: sha256=HEX python=X.Y arch=ARCH``. A build refuses a
lock whose line does not match (``lambda-scaffold check`` reports it as
``stale-lock``): the hint is to run ``./build.sh --lock`` again.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import build_cache

LOCK_FILE = "requirements.lock"
REQUIREMENTS_FILE = "requirements.txt"
INPUT_LINE = re.compile(
    r"# lock-input: sha256=([0-9a-f]{64}) python=([0-9.]+) arch=([a-z0-9_]+)"
)
# The manylinux glibc minors uv names as `--python-platform`, newest first.
UV_MANYLINUX_MINORS = (40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 28, 17)
HEADER = """\
# requirements.lock: requirements.txt resolved for Lambda's python{python} {arch},
# every package pinned with the hashes of its files. Every build installs
# exactly this. Do not edit: change requirements.txt, then run `./build.sh --lock`.
"""


class LockError(Exception):
    """The lock cannot be written or used; the message is shown to the user."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def input_line(requirements: bytes, python_version: str, arch: str) -> str:
    """The header line that records what a lock is resolved from."""
    digest = hashlib.sha256(requirements).hexdigest()
    return f"# lock-input: sha256={digest} python={python_version} arch={arch}"


def read_requirements(root: Path) -> bytes:
    """The bytes of ``requirements.txt``, which the lock is resolved from."""
    try:
        return (root / REQUIREMENTS_FILE).read_bytes()
    except FileNotFoundError:
        raise LockError(
            f"`{REQUIREMENTS_FILE}` is missing",
            hint="create it, one dependency a line (it may be empty), or run "
            "`lambda-scaffold check --fix`",
        ) from None


def check_fresh(root: Path, python_version: str, arch: str) -> Path:
    """Return the lock's path, refusing a lock that does not match its inputs."""
    lock = root / LOCK_FILE
    hint = "run `./build.sh --lock` to resolve requirements.txt for Lambda again"
    want = input_line(read_requirements(root), python_version, arch)
    try:
        text = lock.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockError(f"`{LOCK_FILE}` is missing", hint=hint) from None
    except UnicodeDecodeError:
        raise LockError(f"`{LOCK_FILE}` is not UTF-8 text", hint=hint) from None
    found = next((m for m in map(INPUT_LINE.fullmatch, text.splitlines()) if m), None)
    if found is None:
        raise LockError(f"`{LOCK_FILE}` has no `# lock-input:` line", hint=hint)
    if found.group(0) == want:
        return lock
    _, python, locked_arch = found.groups()
    if (python, locked_arch) != (python_version, arch):
        raise LockError(
            f"`{LOCK_FILE}` is resolved for python{python} {locked_arch}, not "
            f"lambdas.toml's python{python_version} {arch}",
            hint=hint,
        )
    raise LockError(
        f"`{LOCK_FILE}` is older than `{REQUIREMENTS_FILE}` (it was resolved "
        "from another version of it)",
        hint=hint,
    )


def uv_platform(machine: str, glibc: tuple[int, int]) -> str:
    """uv's ``--python-platform`` for a runtime: the newest glibc it loads."""
    minor = next(m for m in UV_MANYLINUX_MINORS if m <= glibc[1])
    return f"{machine}-manylinux_2_{minor}"


def write_lock(
    root: Path,
    python_version: str,
    arch: str,
    platform: str,
    has_requirements: bool,
) -> Path:
    """Resolve ``requirements.txt`` with uv into ``requirements.lock``.

    ``platform`` is uv's name of the runtime's platform (:func:`uv_platform`).
    With nothing to install, no resolver is needed: the lock is its header.
    ``PIP_EXTRA_ARGS`` reaches uv too (``--no-index --find-links DIR``,
    ``--index-url URL``: uv takes the same options).
    """
    requirements = read_requirements(root)
    body = ""
    if has_requirements:
        body = resolve(root, python_version, platform)
    text = (
        HEADER.format(python=python_version, arch=arch)
        + input_line(requirements, python_version, arch)
        + "\n"
        + body
    )
    lock = root / LOCK_FILE
    build_cache.write_atomically(lock, text.encode("utf-8"))
    return lock


def resolve(root: Path, python_version: str, platform: str) -> str:
    """uv's pinned, hashed resolution of ``requirements.txt`` for Lambda."""
    uv = shutil.which("uv")
    if uv is None:
        raise LockError(
            "`uv` is not installed: it resolves the lock for Lambda's platform",
            hint="install the project's dev tools into its virtual environment "
            "and activate it: `python3 -m venv .venv && . .venv/bin/activate && "
            "pip install -r requirements-dev.txt`",
        )
    command = [
        uv,
        "pip",
        "compile",
        REQUIREMENTS_FILE,
        "--python-platform",
        platform,
        "--python-version",
        python_version,
        "--generate-hashes",
        "--no-header",
        "--quiet",
        *shlex.split(os.environ.get("PIP_EXTRA_ARGS", "")),
    ]
    # uv would otherwise try to download the runtime's Python, which a
    # resolution for another platform does not need.
    env = {"UV_PYTHON_DOWNLOADS": "never", **os.environ}
    print("+ " + shlex.join(command), file=sys.stderr)
    done = subprocess.run(
        command, cwd=root, env=env, stdout=subprocess.PIPE, text=True, check=False
    )
    if done.returncode != 0:
        raise LockError(
            f"uv could not resolve `{REQUIREMENTS_FILE}` for Lambda "
            f"(exit status {done.returncode})",
            hint="see uv's message above; extra index options go in "
            "PIP_EXTRA_ARGS (see tools/package_lambda.py)",
        )
    return done.stdout
