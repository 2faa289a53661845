"""Package Lambdas of this project into deterministic deployment zips.

This is the one packaging implementation of the project: ``./build.sh --local``
runs it on the host, ``./build.sh`` runs it inside the AWS SAM build image, and
CI runs it through ``./build.sh --all --local``.

Usage, from any folder (PATH is relative to the project root)::

    python3 tools/package_lambda.py NAME PATH [NAME PATH ...]
        [--python-version X.Y] [--platform manylinux2014_ARCH] [--out DIR]

For each ``NAME PATH`` pair it writes ``target/NAME.zip`` holding:

* the files of PATH at the zip root, so ``<kind>.py`` is importable as the
  module ``<kind>`` and the handler string ``<kind>.NAME`` resolves;
* ``utils/`` at the zip root (shared code);
* the dependencies of the root ``requirements.txt``, installed as wheels for
  the Lambda platform (never built from source), at the zip root.

``__pycache__`` and ``*.pyc`` files are left out everywhere; tests and hidden
files are left out of the project's own code. Entries are sorted, timestamped
1980-01-01 and given fixed modes (0644, 0755 for folders and for files that were
executable), so the same sources give a byte-identical zip (with the same
Python and zlib).

Environment:

``PIP_EXTRA_ARGS``
    Extra options appended to the ``pip install`` command line, split like a
    shell would split them. For an offline build from a folder of wheels:
    ``PIP_EXTRA_ARGS="--no-index --find-links ./wheels"``; for a private index:
    ``PIP_EXTRA_ARGS="--index-url https://pypi.example.com/simple"``. pip runs
    in the project root, so relative paths are relative to it (in the Docker
    build the project is mounted at /var/task).

Exit status: 0 on success, 1 when a Lambda cannot be packaged, 2 on a usage
error.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import re
import shlex
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("producers", "consumers", "handlers")
DEFAULT_PYTHON_VERSION = "{{ python_version }}"
DEFAULT_PLATFORM = "{{ pip_platform }}"

EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
# Files that were executable stay so (a binary a wheel ships must still run).
EXEC_FILE_MODE = 0o100755
DIR_MODE = 0o040755
MSDOS_DIRECTORY = 0x10
UNIX_SYSTEM = 3
COMPRESS_LEVEL = 9

# Lambda's documented quotas for a .zip deployment package.
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024

# Never packaged: caches everywhere; tests only in the project's own code (an
# installed package may import its own `tests` module at run time).
CACHE_DIRS = frozenset({"__pycache__", ".pytest_cache"})
TEST_DIRS = frozenset({"test", "tests"})
INCLUDES = ("-r", "--requirement", "-e", "--editable")
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class PackagingError(Exception):
    """A Lambda cannot be packaged; the message is shown to the user."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def is_cache_file(name: str) -> bool:
    """Tell whether a file is compiled bytecode, never worth shipping."""
    return name.endswith((".pyc", ".pyo"))


def is_test_file(name: str) -> bool:
    """Tell whether a file of the project's own code is a test."""
    return (
        name.endswith("_test.py")
        or (name.startswith("test_") and name.endswith(".py"))
        or name == "conftest.py"
    )


def collect(base: Path, prefix: str = "", own_code: bool = False) -> dict[str, Path]:
    """Map zip entry names to the files under ``base`` that belong in a zip.

    Caches are left out everywhere. In the project's own code (``own_code``)
    tests and hidden files and folders are left out too: a ``.env`` or
    ``.DS_Store`` beside a handler must not ship. Installed packages keep
    theirs (some wheels hold ``.libs`` folders or import their own tests).
    """
    entries: dict[str, Path] = {}
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in CACHE_DIRS
            and not (own_code and (d in TEST_DIRS or d.startswith(".")))
        )
        relative = Path(folder).relative_to(base)
        for name in sorted(files):
            if is_cache_file(name) or (
                own_code and (is_test_file(name) or name.startswith("."))
            ):
                continue
            arcname = prefix + (relative / name).as_posix()
            entries[arcname] = Path(folder) / name
    return entries


def merge(
    into: dict[str, Path], entries: dict[str, Path], origin: str, lambda_name: str
) -> None:
    """Add ``entries`` to ``into``, refusing two files for one zip path."""
    for arcname, source in entries.items():
        if arcname in into:
            raise PackagingError(
                f"`{arcname}` would come from both `{into[arcname]}` and "
                f"`{source}` ({origin}) in `{lambda_name}.zip`",
                hint="rename one of them; every zip path must be unique",
            )
        into[arcname] = source


def directories_of(arcnames: list[str]) -> set[str]:
    """Every parent folder of the given entries, as ``a/`` and ``a/b/``."""
    folders: set[str] = set()
    for arcname in arcnames:
        parts = arcname.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folders.add("/".join(parts[:depth]) + "/")
    return folders


def zip_info(arcname: str, mode: int) -> zipfile.ZipInfo:
    """A zip entry header with everything that could vary pinned down."""
    info = zipfile.ZipInfo(arcname, date_time=EPOCH)
    info.create_system = UNIX_SYSTEM
    info.external_attr = mode << 16
    if arcname.endswith("/"):
        info.external_attr |= MSDOS_DIRECTORY
        info.compress_type = zipfile.ZIP_STORED
    else:
        info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_zip(destination: Path, entries: dict[str, Path]) -> int:
    """Write a deterministic zip atomically; return the unzipped size."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent
    )
    os.close(handle)
    temp = Path(temp_name)
    unzipped = 0
    try:
        with zipfile.ZipFile(temp, "w") as archive:
            names = sorted(set(entries) | directories_of(list(entries)))
            for arcname in names:
                if arcname.endswith("/"):
                    archive.writestr(
                        zip_info(arcname, DIR_MODE), b"", zipfile.ZIP_STORED
                    )
                    continue
                source = entries[arcname]
                data = source.read_bytes()
                unzipped += len(data)
                executable = source.stat().st_mode & 0o111
                archive.writestr(
                    zip_info(arcname, EXEC_FILE_MODE if executable else FILE_MODE),
                    data,
                    zipfile.ZIP_DEFLATED,
                    COMPRESS_LEVEL,
                )
        temp.chmod(0o644)
        os.replace(temp, destination)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return unzipped


def requirement_lines(requirements: Path) -> list[str]:
    """The lines of a requirements file that ask for something to install.

    Blank lines, comments and option lines (``--index-url ...``) ask for
    nothing; ``-r other.txt`` and ``-e ...`` do.
    """
    if not requirements.is_file():
        return []
    lines = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        stripped = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if not stripped:
            continue
        if stripped.startswith("-") and not stripped.startswith(INCLUDES):
            continue
        lines.append(stripped)
    return lines


def install_dependencies(
    requirements: Path, staging: Path, python_version: str, platform: str
) -> None:
    """Install the wheels of ``requirements`` for the Lambda platform."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-r",
        str(requirements),
        "--target",
        str(staging),
        "--platform",
        platform,
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        python_version,
        "--no-compile",
    ]
    command += shlex.split(os.environ.get("PIP_EXTRA_ARGS", ""))
    print("+ " + shlex.join(command), file=sys.stderr)
    # pip's progress goes to stderr so that stdout only lists the zips built.
    # Installing into a throwaway folder as root (CI, the Docker image) is fine.
    env = {"PIP_ROOT_USER_ACTION": "ignore", **os.environ}
    result = subprocess.run(
        command, stdout=sys.stderr.fileno(), env=env, cwd=ROOT, check=False
    )
    if result.returncode != 0:
        raise PackagingError(
            f"pip could not install `{requirements.name}` "
            f"(exit status {result.returncode})",
            hint="only wheels for "
            f"`{platform}` and Python {python_version} can be used; pin a "
            "version that ships one, or set PIP_EXTRA_ARGS (see "
            "tools/package_lambda.py)",
        )


def resolve_source(name: str, path: str) -> tuple[Path, str]:
    """Check one ``NAME PATH`` pair; return the folder and the module name."""
    if not NAME_PATTERN.fullmatch(name):
        raise PackagingError(
            f"`{name}` is not a valid Lambda name",
            hint="use letters, digits, `_`, `-` and `.` only",
        )
    folder = Path(path)
    if not folder.is_absolute():
        folder = ROOT / folder
    folder = folder.resolve()
    if not folder.is_dir():
        raise PackagingError(
            f"Lambda folder `{path}` does not exist",
            hint="PATH is relative to the project root, e.g. `./producers/error_event`",
        )
    kinds = [folder.parent.name] if folder.parent.name in KINDS else list(KINDS)
    modules = [kind for kind in kinds if (folder / f"{kind}.py").is_file()]
    if not modules:
        expected = " or ".join(f"`{kind}.py`" for kind in kinds)
        raise PackagingError(
            f"Lambda folder `{path}` contains no {expected}",
            hint="a Lambda is a folder `<kind>/<name>/` holding `<kind>.py`",
        )
    module = modules[0]
    if not defines(folder / f"{module}.py", name):
        print(
            f"warning: `{path}/{module}.py` defines no `{name}`, so the "
            f"handler string `{module}.{name}` will not resolve",
            file=sys.stderr,
        )
    return folder, module


def defines(module: Path, name: str) -> bool:
    """Tell whether a module binds ``name`` at its top level."""
    try:
        tree = ast.parse(module.read_bytes(), filename=str(module))
    except (SyntaxError, ValueError):
        return False
    bound: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Assign):
            bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.ImportFrom, ast.Import)):
            bound.update(alias.asname or alias.name for alias in node.names)
    return name in bound


def display(path: Path) -> str:
    """A path relative to the project root when it lies inside it."""
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def package(
    lambdas: list[tuple[str, str]], python_version: str, platform: str, out: Path
) -> None:
    """Build one zip per ``(NAME, PATH)``, installing dependencies once."""
    seen: dict[str, str] = {}
    for name, path in lambdas:
        if name in seen:
            raise PackagingError(
                f"Lambda name `{name}` is given twice (`{seen[name]}` and `{path}`)",
                hint="every Lambda needs its own name: they share `target/`",
            )
        seen[name] = path
    sources = [(name, path, *resolve_source(name, path)) for name, path in lambdas]

    with tempfile.TemporaryDirectory(prefix="package_lambda-") as staging_dir:
        staging = Path(staging_dir)
        requirements = ROOT / "requirements.txt"
        if requirement_lines(requirements):
            install_dependencies(requirements, staging, python_version, platform)
        dependencies = collect(staging)
        utils = ROOT / "utils"
        shared = collect(utils, "utils/", own_code=True) if utils.is_dir() else {}

        for name, path, folder, _module in sources:
            entries: dict[str, Path] = {}
            merge(entries, collect(folder, own_code=True), path, name)
            merge(entries, shared, "utils/", name)
            merge(entries, dependencies, "requirements.txt", name)
            destination = out / f"{name}.zip"
            unzipped = write_zip(destination, entries)
            data = destination.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            print(f"{display(destination)}  {len(data)} bytes  sha256:{digest}")
            if len(data) > MAX_ZIPPED:
                print(
                    f"warning: `{display(destination)}` is {len(data)} bytes, "
                    "over Lambda's 50 MB limit for a direct zip upload; "
                    "upload it through S3 or trim `requirements.txt`",
                    file=sys.stderr,
                )
            if unzipped > MAX_UNZIPPED:
                print(
                    f"warning: `{display(destination)}` unzips to {unzipped} "
                    "bytes, over Lambda's 250 MB limit; trim "
                    "`requirements.txt` or use a container image",
                    file=sys.stderr,
                )


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Turn the command line into options, pairing NAME and PATH."""
    parser = argparse.ArgumentParser(
        prog="package_lambda.py",
        usage="%(prog)s NAME PATH [NAME PATH ...] [options]",
        description="Build target/NAME.zip for each Lambda folder PATH "
        "(relative to the project root).",
        epilog="PIP_EXTRA_ARGS: extra pip options, e.g. "
        '"--no-index --find-links ./wheels" (paths relative to the project root).',
    )
    parser.add_argument("lambdas", nargs="+", metavar="NAME PATH")
    parser.add_argument(
        "--python-version",
        default=DEFAULT_PYTHON_VERSION,
        help="Lambda runtime Python version (default: %(default)s)",
    )
    parser.add_argument(
        "--platform",
        default=DEFAULT_PLATFORM,
        help="pip platform tag of the Lambda architecture (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        default="target",
        help="output folder, relative to the project root (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if len(args.lambdas) % 2:
        parser.error("expected NAME PATH pairs, got an odd number of arguments")
    if not re.fullmatch(r"3\.[0-9]+", args.python_version):
        parser.error(f"`{args.python_version}` is not a Python version like 3.13")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point: package the Lambdas named on the command line."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    pairs = [tuple(args.lambdas[i : i + 2]) for i in range(0, len(args.lambdas), 2)]
    out = Path(args.out)
    if not out.is_absolute():
        out = ROOT / out
    try:
        package(pairs, args.python_version, args.platform, out)
    except PackagingError as error:
        print(f"error: {error}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
