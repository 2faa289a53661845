"""Package Lambdas of this project into deterministic deployment zips.

This is the one packaging implementation of the project: ``./build.sh --local``
runs it on the host, ``./build.sh`` runs it inside the AWS SAM build image, and
CI runs it through ``./build.sh --all --local``.

Usage, from any folder (PATH is relative to the project root)::

    python3 tools/package_lambda.py --python-version X.Y --arch x86_64|arm64
        [--native] [--dependencies bundle|layer] [--bytecode]
        [--packages NAME=PACKAGE,... ...] [--jobs N] [--out DIR] -- NAME PATH [NAME PATH ...]
    python3 tools/package_lambda.py --stage DIR -- NAME PATH
    python3 tools/package_lambda.py --stage DIR --from-zip --python-version X.Y --arch ARCH
        [--packages NAME=PACKAGE,...] [--dependencies layer --opt DIR] -- NAME PATH
    python3 tools/package_lambda.py --python-version X.Y --arch ARCH --lock
    python3 tools/package_lambda.py --python-version X.Y --arch ARCH --check-lock

``build.sh`` passes the ``python`` and ``arch`` of ``lambdas.toml``, the
project's one source of build settings.

For each ``NAME PATH`` pair it writes ``target/NAME.zip`` holding:

* the Lambda's code at the path it has in the project: ``KIND/NAME/`` (every
  file of the handler folder, sub-packages included) and ``utils/`` (shared
  code), so the handler module imports its helpers by package path
  (``from producers.error_event.schema import x``), the same line the tests use;
* ``KIND/__init__.py``, written here: it re-exports the handler function, so
  the AWS handler string ``KIND.NAME`` resolves;
* the dependencies pinned in ``requirements.lock`` (``requirements.txt``
  resolved for Lambda, see ``tools/requirements_lock.py``; a lock that does
  not match ``requirements.txt`` or the runtime stops the build) at the zip
  root, installed with ``--require-hashes --no-deps`` as wheels for the Lambda
  runtime's platform: every manylinux tag its
  operating system can load (Amazon Linux 2, glibc 2.26, for python3.10 and
  3.11; Amazon Linux 2023, glibc 2.34, for 3.12 and newer), never built from
  source. With ``--native`` (inside the SAM build image, which is that
  platform) pip installs for the running interpreter and may compile packages
  that ship only source code. A Lambda given ``--packages NAME=a,b`` (the
  ``requirements`` of its entry in ``lambdas.toml``, which build.sh passes)
  gets only those packages and what they require
  (``tools/handler_packages.py``).

After installing, every installed wheel's tags and every native library
(``.so``: ELF machine and the glibc versions it needs; no macOS or Windows
binaries) are checked against the runtime: a zip Lambda could not load is
refused, naming the package.

Of the project's code, hidden files and folders, ``__pycache__`` and ``*.pyc``
files are left out, and nothing else: a module named like a test ships too.
Symbolic links are followed when they lead to a file or folder inside the
project; one that leads outside it, or nowhere, stops the build. Entries are
sorted, timestamped 1980-01-01 and given fixed modes (0644, 0755 for folders
and for files that were executable), so the same sources give a
byte-identical zip (with the same Python and zlib).

With ``--bytecode`` (``bytecode = true`` in lambdas.toml, the default), the
zips also hold the ``.pyc`` files this interpreter compiles from the code and
the dependencies, hash-based and never checked against the source
(``compileall --invalidation-mode unchecked-hash``), so a cold start compiles
nothing and rebuilds stay byte-identical. .pyc files are per Python version:
they are compiled only when this interpreter is the runtime's (always in the
SAM build image); otherwise a warning says the zips hold none.

A zip whose inputs did not change since it was built is kept, and the
dependencies are installed and compressed once per lock, their compressed
bytes copied into every zip (``tools/build_cache.py``,
``tools/deterministic_zip.py``); zips are written on ``--jobs`` threads
(default: the number of cores).

Each zip is printed with its size zipped and unzipped. One that unzips, with
the layer in layer mode, over Lambda's 250 MB stops the build before any zip
is written, naming its largest packages; one over 50 MB zipped is built, with
a warning that it deploys through S3.

``--lock`` writes ``requirements.lock`` from ``requirements.txt`` with uv;
``--check-lock`` only checks that it matches (for CI).

``--stage DIR`` writes the Lambda's code (the zip's files, without the
dependencies) into the empty folder DIR instead: ``lambda-scaffold invoke``
runs the handler from there, so it runs exactly the files the zip holds.
With ``--from-zip`` it extracts the built ``target/NAME.zip`` there instead,
and in layer mode the layer's zip into the folder ``--opt`` names (Lambda's
``/opt``), for ``lambda-scaffold invoke --zip``: a zip that is missing, not
built from the current inputs (its stamp, see ``tools/build_cache.py``) or
not safe to extract (``tools/built_zip.py``) is refused.

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
import concurrent.futures
import functools
import hashlib
import os
import platform
import re
import shlex
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import build_cache
import built_zip
import deterministic_zip
import handler_packages
import requirements_lock
from deterministic_zip import Member, ZipError
from handler_packages import SelectionError
from requirements_lock import LockError

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("producers", "consumers", "handlers")

# The glibc of each Lambda runtime's operating system: Amazon Linux 2 for
# python3.10 and 3.11, Amazon Linux 2023 for 3.12 and newer.
RUNTIME_GLIBC = {
    "3.10": (2, 26),
    "3.11": (2, 26),
    "3.12": (2, 34),
    "3.13": (2, 34),
    "3.14": (2, 34),
}
# Lambda's architecture names and the machine names of wheel tags.
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
# ELF e_machine values of those machines.
ELF_MACHINES = {62: "x86_64", 183: "aarch64"}
# The manylinux tags named before PEP 600, by the glibc minor they stand for.
LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
# The oldest glibc any manylinux tag names, per machine (aarch64 came with 2014).
OLDEST_GLIBC_MINOR = {"x86_64": 5, "aarch64": 17}
NATIVE_LIBRARY = re.compile(r".*\.(so(\.[0-9]+)*|dylib|pyd|dll)")
MACH_O_MAGICS = frozenset(
    {
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
        b"\xca\xfe\xba\xbe",
    }
)
SHT_GNU_VERNEED = 0x6FFFFFFE
GLIBC_VERSION = re.compile(rb"GLIBC_([0-9]+)\.([0-9]+)")

# Bytecode the build compiles (`bytecode = true` in lambdas.toml, the
# default): in `__pycache__`, named for this interpreter (`.cpython-313.pyc`).
BYTECODE_FOLDER = "__pycache__"
BYTECODE = f".{sys.implementation.cache_tag}.pyc"

# The zip of the dependencies' layer in layer mode (`dependencies = "layer"`).
LAYER_NAME = "dependencies"

# Lambda's documented quotas for a .zip deployment package: a function's zip
# and its layers unzip to at most 250 MB; a zip over 50 MB cannot be uploaded
# directly and goes through S3. The tool's own tests lower them through these
# variables (a zip of 250 MB would make them slow); nothing else should.
MAX_ZIPPED = int(os.environ.get("LAMBDA_SCAFFOLD_TEST_MAX_ZIPPED", 50 * 1024 * 1024))
MAX_UNZIPPED = int(
    os.environ.get("LAMBDA_SCAFFOLD_TEST_MAX_UNZIPPED", built_zip.MAX_UNZIPPED)
)
MEGABYTE = 1024 * 1024

# Never packaged: caches. Of the project's own code, hidden files and folders
# are left out too (see `code_files`); installed packages keep theirs.
CACHE_DIRS = frozenset({"__pycache__", ".pytest_cache"})
INCLUDES = ("-r", "--requirement", "-e", "--editable")
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class PackagingError(Exception):
    """A Lambda cannot be packaged; the message is shown to the user."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class Runtime:
    """A Lambda Python runtime: what its zips may hold, and how pip finds it."""

    def __init__(self, python_version: str, arch: str) -> None:
        if python_version not in RUNTIME_GLIBC:
            raise PackagingError(
                f"python `{python_version}` is not a Lambda runtime this project knows",
                hint="set `python` in lambdas.toml to one of "
                + ", ".join(RUNTIME_GLIBC),
            )
        if arch not in MACHINES:
            raise PackagingError(
                f"arch `{arch}` is not a Lambda architecture",
                hint="set `arch` in lambdas.toml to x86_64 or arm64",
            )
        self.python_version = python_version
        self.minor = int(python_version.split(".")[1])
        self.arch = arch
        self.machine = MACHINES[arch]
        self.glibc = RUNTIME_GLIBC[python_version]
        self.os_name = "Amazon Linux 2" if self.glibc < (2, 34) else "Amazon Linux 2023"

    def __str__(self) -> str:
        glibc = ".".join(map(str, self.glibc))
        return (
            f"python{self.python_version} {self.arch} ({self.os_name}, glibc {glibc})"
        )

    def platform_tags(self) -> list[str]:
        """Every manylinux platform tag the runtime loads, newest first.

        pip prefers the tags given first, so the newest build a package ships
        for this glibc wins.
        """
        tags = []
        oldest = OLDEST_GLIBC_MINOR[self.machine]
        for minor in range(self.glibc[1], oldest - 1, -1):
            tags.append(f"manylinux_2_{minor}_{self.machine}")
            legacy = LEGACY_MANYLINUX.get(minor)
            if legacy and (legacy == "manylinux2014" or self.machine == "x86_64"):
                tags.append(f"{legacy}_{self.machine}")
        return tags

    def accepts_tag(self, tag: str, native: bool) -> bool:
        """Whether a wheel tag (``cp312-cp312-manylinux_2_28_x86_64``) loads here.

        ``native``: wheels built in the SAM build image for this machine
        (``linux_x86_64``) load too.
        """
        parts = tag.split("-")
        if len(parts) != 3:
            return False
        interpreters, abi, platforms = parts
        loadable = set(self.platform_tags()) | {"any"}
        if native:
            loadable.add(f"linux_{self.machine}")
        if not loadable.intersection(platforms.split(".")):
            return False
        return any(self.accepts_interpreter(i, abi) for i in interpreters.split("."))

    def accepts_interpreter(self, interpreter: str, abi: str) -> bool:
        """Whether ``py3``, ``cp312`` (with ``abi3`` or its own ABI) fit."""
        if interpreter in ("py3", f"py3{self.minor}") and abi == "none":
            return True
        found = re.fullmatch(r"cp3([0-9]+)", interpreter)
        if not found:
            return False
        minor = int(found.group(1))
        if abi in ("abi3", "none"):
            return minor <= self.minor
        # Its own ABI, not the free-threaded one (cp313t), which Lambda lacks.
        return minor == self.minor and abi == interpreter

    def binary_problem(self, path: Path) -> str | None:
        """Why a native library could not load on this runtime, or ``None``."""
        try:
            with path.open("rb") as handle:
                head = handle.read(64)
                if head[:4] in MACH_O_MAGICS:
                    return "is a macOS (Mach-O) binary"
                if head[:2] == b"MZ":
                    return "is a Windows (PE) binary"
                if head[:4] != b"\x7fELF":
                    return "is not an ELF shared library"
                if len(head) < 64 or head[4] != 2 or head[5] != 1:
                    return "is not a 64-bit little-endian ELF binary"
                machine = struct.unpack_from("<H", head, 18)[0]
                if ELF_MACHINES.get(machine) != self.machine:
                    found = ELF_MACHINES.get(machine, f"machine {machine}")
                    return f"is built for {found}, not {self.machine}"
                needed = newest_glibc_needed(handle, head)
        except (OSError, struct.error, IndexError):
            return "is not a readable ELF file"
        if needed is not None and needed > self.glibc:
            return (
                f"needs GLIBC_{needed[0]}.{needed[1]}, newer than the runtime's "
                f"glibc {self.glibc[0]}.{self.glibc[1]}"
            )
        return None


def newest_glibc_needed(handle, head: bytes) -> tuple[int, int] | None:
    """The newest ``GLIBC_x.y`` symbol version an ELF64 file needs.

    Read from its version-needs section (``.gnu.version_r``): each entry names
    a library and the symbol versions it must provide.
    """
    section_offset = struct.unpack_from("<Q", head, 0x28)[0]
    entry_size, count = struct.unpack_from("<HH", head, 0x3A)
    handle.seek(section_offset)
    table = handle.read(entry_size * count)
    # name, type, flags, addr, offset, size, link, info, align, entsize
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", table, i * entry_size) for i in range(count)
    ]
    newest = None
    for section in sections:
        if section[1] != SHT_GNU_VERNEED:
            continue
        strings_section = sections[section[6]]
        handle.seek(strings_section[4])
        strings = handle.read(strings_section[5])
        handle.seek(section[4])
        data = handle.read(section[5])
        offset = 0
        for _ in range(section[7]):
            _, aux_count, _, aux, next_entry = struct.unpack_from(
                "<HHIII", data, offset
            )
            aux_offset = offset + aux
            for _ in range(aux_count):
                _, _, _, name, next_aux = struct.unpack_from("<IHHII", data, aux_offset)
                end = strings.index(b"\0", name)
                found = GLIBC_VERSION.fullmatch(strings[name:end])
                if found:
                    version = (int(found.group(1)), int(found.group(2)))
                    newest = version if newest is None else max(newest, version)
                aux_offset += next_aux
            if not next_entry:
                break
            offset += next_entry
    return newest


class Distribution:
    """A package pip installed: its name, version, wheel tags and files."""

    def __init__(self, dist_info: Path) -> None:
        metadata = read_fields(dist_info / "METADATA")
        name, _, version = dist_info.name.removesuffix(".dist-info").partition("-")
        self.label = (
            f"{metadata.get('Name', [name])[0]} {metadata.get('Version', [version])[0]}"
        )
        self.tags = read_fields(dist_info / "WHEEL").get("Tag", [])
        record = dist_info / "RECORD"
        text = record.read_text("utf-8", "replace") if record.is_file() else ""
        lines = text.splitlines()
        self.files = [line.rsplit(",", 2)[0] for line in lines if line]


def read_fields(path: Path) -> dict[str, list[str]]:
    """The ``Key: value`` header fields of a dist-info file, by key."""
    fields: dict[str, list[str]] = {}
    if not path.is_file():
        return fields
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line:
            break
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), []).append(value.strip())
    return fields


def check_installed(staging: Path, runtime: Runtime, native: bool) -> None:
    """Refuse dependencies the runtime could not load, naming each package.

    Every installed wheel must carry a tag of the runtime, and every native
    library must be an ELF file for its machine needing no newer glibc: pip
    only checks the tags a wheel claims, and a resolver that fell back to the
    host's platform ships binaries that fail at import time in Lambda.
    """
    owners: dict[str, str] = {}
    problems = []
    for dist_info in sorted(staging.glob("*.dist-info")):
        distribution = Distribution(dist_info)
        owners.update(dict.fromkeys(distribution.files, distribution.label))
        if not any(runtime.accepts_tag(t, native) for t in distribution.tags):
            tags = ", ".join(distribution.tags) or "none"
            problems.append(f"`{distribution.label}` is a wheel for {tags}")
    for path in sorted(staging.rglob("*")):
        if not (NATIVE_LIBRARY.fullmatch(path.name) and path.is_file()):
            continue
        relative = path.relative_to(staging).as_posix()
        reason = runtime.binary_problem(path)
        if reason:
            owner = owners.get(relative, relative.split("/")[0])
            problems.append(f"`{owner}`: `{relative}` {reason}")
    if problems:
        raise PackagingError(
            f"Lambda's {runtime} could not load these dependencies: "
            + "; ".join(problems),
            hint="pin versions that ship manylinux wheels for this runtime "
            "(see `python` and `arch` in lambdas.toml), or build in the SAM "
            "image with `./build.sh NAME PATH` (without --local)",
        )


def is_cache_file(name: str) -> bool:
    """Tell whether a file is compiled bytecode, never worth shipping."""
    return name.endswith((".pyc", ".pyo"))


def collect(base: Path, bytecode: bool = False) -> dict[str, Path]:
    """Map zip entry names to the installed dependencies under ``base``.

    Caches are left out, but for the bytecode compiled here with
    ``bytecode``; everything else stays (some wheels hold ``.libs`` folders or
    import their own tests).
    """
    kept = {BYTECODE_FOLDER} if bytecode else set()
    entries: dict[str, Path] = {}
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in CACHE_DIRS - kept)
        relative = Path(folder).relative_to(base)
        compiled = bytecode and relative.name == BYTECODE_FOLDER
        for name in sorted(files):
            if not is_cache_file(name) or (compiled and name.endswith(BYTECODE)):
                entries[(relative / name).as_posix()] = Path(folder) / name
    return entries


def compile_bytecode(folder: Path, jobs: int) -> None:
    """Compile every ``.py`` under ``folder`` into ``__pycache__`` beside it.

    compileall, with unchecked-hash .pyc files: they hold the source's hash
    instead of its timestamp, and Lambda's Python loads them without reading
    the source (a zip's files never change), so the same sources give the same
    bytes and a cold start compiles nothing. Paths are recorded relative to
    ``folder`` and the hash seed is fixed, so where and when the build ran
    leaves no trace. A file that does not compile gets no .pyc (its source
    ships, as pip does it).
    """
    command = [
        sys.executable,
        "-m",
        "compileall",
        "-qq",
        "-j",
        str(jobs),
        "-s",
        str(folder),
        "--invalidation-mode",
        "unchecked-hash",
        str(folder),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False)


def bytecode_of(builds: list[Build], jobs: int) -> None:
    """Add the compiled bytecode of each zip's ``.py`` entries to its entries."""
    with tempfile.TemporaryDirectory(prefix="package_lambda-") as staging:
        top = Path(staging)
        for job in builds:
            for arcname, source in job.entries.items():
                target = top / job.name / arcname
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content(source)[0])
        compile_bytecode(top, jobs)
        for job in builds:
            compiled = collect(top / job.name, bytecode=True)
            job.entries.update(
                (arcname, path.read_bytes())
                for arcname, path in compiled.items()
                if arcname.endswith(BYTECODE)
            )


# A zip entry's content: a file to copy, or bytes written here.
Source = Path | bytes


def origin_of(source: Source) -> str:
    """Where an entry's content comes from, for messages."""
    return "tools/package_lambda.py" if isinstance(source, bytes) else str(source)


def merge(
    into: dict[str, Source], entries: dict[str, Path], origin: str, lambda_name: str
) -> None:
    """Add ``entries`` to ``into``, refusing two files for one zip path."""
    for arcname, source in entries.items():
        if arcname in into:
            raise PackagingError(
                f"`{arcname}` would come from both `{origin_of(into[arcname])}` "
                f"and `{source}` ({origin}) in `{lambda_name}.zip`",
                hint="rename one of them; every zip path must be unique",
            )
        into[arcname] = source


# What a Lambda's zip holds of the project's own code. This is the one
# definition: the zip is built from it, and `lambda-scaffold invoke` runs the
# handler from the same files, staged with --stage.

# The zip's `KIND/__init__.py`: the package of the handler string `KIND.NAME`.
KIND_PACKAGE = '''"""The `{kind}` package in the zip of `{name}`, written by tools/package_lambda.py.

Lambda resolves the handler string `{kind}.{name}` to the attribute `{name}` of
this package: the handler function, imported here by its package path.
"""

from {kind}.{name}.{kind} import {name}

__all__ = ["{name}"]
'''


def warn(message: str) -> None:
    """Say something the user should know; the build goes on."""
    print(f"warning: {message}", file=sys.stderr)


def project_path(path: Path) -> Path:
    """Where ``path`` really is, following links; refused outside the project."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as error:
        raise PackagingError(
            f"`{display(path)}` is a symbolic link that leads nowhere ({error})",
            hint="remove the link, or make it point to a file of the project",
        ) from error
    if not real.is_relative_to(ROOT):
        raise PackagingError(
            f"`{display(path)}` leads outside the project, to `{real}`",
            hint="a zip holds only the project's files: copy the file into the "
            "project, or install it as a dependency in `requirements.txt`",
        )
    return real


def code_files(top: Path) -> dict[str, Path]:
    """Map zip paths to the files of the project folder ``top``, by project path.

    Every file goes in but caches and hidden files and folders (a ``.env`` or
    ``.DS_Store`` must not ship). Links are followed to files and folders
    inside the project and refused otherwise, as is a folder link that loops.
    """
    entries: dict[str, Path] = {}

    def visit(folder: Path, real_folders: tuple[Path, ...]) -> None:
        for child in sorted(folder.iterdir()):
            name = child.name
            if name.startswith(".") or name in CACHE_DIRS:
                continue
            if is_cache_file(name):
                if not child.with_suffix(".py").exists():
                    warn(
                        f"`{display(child)}` is left out: compiled bytecode is "
                        "never packaged; put its source `.py` there instead"
                    )
                continue
            real = project_path(child)
            if real.is_dir():
                if real in real_folders:
                    raise PackagingError(
                        f"`{display(child)}` links back to `{display(real)}`, "
                        "a folder that holds it",
                        hint="a folder link must not lead to a folder that contains it",
                    )
                visit(child, (*real_folders, real))
            elif real.is_file():
                entries[child.relative_to(ROOT).as_posix()] = child
            else:
                raise PackagingError(
                    f"`{display(child)}` is neither a file nor a folder",
                    hint="a zip holds files: remove it from the Lambda's code",
                )

    visit(top, (project_path(top),))
    return entries


def holds_code(module: Path) -> bool:
    """Tell whether a module holds more than a docstring."""
    try:
        body = ast.parse(module.read_bytes(), filename=str(module)).body
    except (SyntaxError, ValueError):
        return True
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    ):
        body = body[1:]
    return bool(body)


def kind_package(kind: str, function: str) -> bytes:
    """The zip's ``KIND/__init__.py``, which re-exports the handler function."""
    own = ROOT / kind / "__init__.py"
    if own.is_file() and holds_code(own):
        warn(
            f"the code in `{display(own)}` is not in the zip: there, "
            f"`{kind}/__init__.py` only re-exports `{function}`; move that code "
            "to `utils/`"
        )
    return KIND_PACKAGE.format(kind=kind, name=function).encode()


@functools.cache
def shared_code() -> dict[str, Path]:
    """``utils/``, the code every Lambda's zip holds (read once per run)."""
    utils = ROOT / "utils"
    if not (utils.exists() or utils.is_symlink()):
        return {}
    return code_files(utils)


def lambda_code(name: str, folder: Path, kind: str) -> dict[str, Source]:
    """The project's code in the zip of the Lambda ``name`` in ``folder``.

    ``KIND/NAME/`` and ``utils/`` keep their project paths, so a handler's
    imports are the ones its tests use; ``KIND/__init__.py`` is written here.
    """
    entries: dict[str, Source] = {
        f"{kind}/__init__.py": kind_package(kind, folder.name)
    }
    merge(entries, code_files(folder), display(folder), name)
    merge(entries, shared_code(), "utils/", name)
    return entries


def stage(entries: dict[str, Source], destination: Path) -> None:
    """Write ``entries`` into the empty folder ``destination`` as files."""
    if not destination.is_dir() or any(destination.iterdir()):
        raise PackagingError(
            f"`{destination}` is not an empty folder",
            hint="--stage writes into a new, empty folder",
        )
    for arcname, source in sorted(entries.items()):
        data, executable = content(source)
        target = destination / arcname
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(0o755 if executable else 0o644)


def content(source: Source) -> tuple[bytes, bool]:
    """An entry's bytes, and whether it is an executable file."""
    if isinstance(source, bytes):
        return source, False
    return source.read_bytes(), bool(source.stat().st_mode & 0o111)


def write_zip(destination: Path, members: list[Member]) -> bytes:
    """Write a deterministic zip atomically: its members and their folders,
    sorted by name. Returns the zip's bytes."""
    folders = deterministic_zip.directories_of(m.name for m in members)
    data = deterministic_zip.zip_bytes(
        sorted(
            [*members, *map(deterministic_zip.directory_member, folders)],
            key=lambda member: member.name,
        )
    )
    destination.parent.mkdir(parents=True, exist_ok=True)
    build_cache.write_atomically(destination, data)
    return data


def requirement_lines(requirements: Path) -> list[str]:
    """The lines of a requirements file that ask for something to install.

    Blank lines, comments and option lines (``--index-url ...``) ask for
    nothing; ``-r other.txt`` and ``-e ...`` do.
    """
    if not requirements.is_file():
        return []
    lines = []
    try:
        text = requirements.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PackagingError(
            f"`{display(requirements)}` is not UTF-8 text",
            hint="save it as UTF-8: one requirement a line",
        ) from None
    for line in text.splitlines():
        stripped = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if not stripped:
            continue
        if stripped.startswith("-") and not stripped.startswith(INCLUDES):
            continue
        lines.append(stripped)
    return lines


def install_dependencies(
    lock: Path, staging: Path, runtime: Runtime, native: bool
) -> None:
    """Install the pinned, hashed wheels of ``lock`` for the Lambda runtime.

    ``native``: for the running interpreter (which must be the runtime's),
    building packages that ship only source code if need be.
    """
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--require-hashes",
        "--no-deps",
        "-r",
        str(lock),
        "--target",
        str(staging),
        "--no-compile",
    ]
    if native:
        check_native_interpreter(runtime)
    else:
        for tag in runtime.platform_tags():
            command += ["--platform", tag]
        command += [
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            runtime.python_version,
        ]
    command += shlex.split(os.environ.get("PIP_EXTRA_ARGS", ""))
    print("+ " + shlex.join(command), file=sys.stderr)
    # pip's progress goes to stderr so that stdout only lists the zips built;
    # its errors are kept to name the package that has no fitting wheel.
    # Installing into a throwaway folder as root (CI, the Docker image) is fine.
    env = {"PIP_ROOT_USER_ACTION": "ignore", **os.environ}
    with subprocess.Popen(
        command,
        stdout=sys.stderr.fileno(),
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        text=True,
        errors="replace",
    ) as pip:
        assert pip.stderr is not None
        errors = []
        for line in pip.stderr:
            sys.stderr.write(line)
            errors.append(line)
    if pip.returncode == 0:
        return
    missing = re.search(
        r"satisfies the requirement ([A-Za-z0-9][A-Za-z0-9._-]*)", "".join(errors)
    )
    if missing and not native:
        raise PackagingError(
            f"no wheel of `{missing.group(1)}` fits Lambda's {runtime}",
            hint="pin a version that ships a manylinux wheel for it; a package "
            "that ships only source code (an sdist) can be compiled in the SAM "
            "build image: `./build.sh NAME PATH` (without --local)",
        )
    raise PackagingError(
        f"pip could not install `{lock.name}` (exit status {pip.returncode})",
        hint="see pip's message above; extra pip options go in PIP_EXTRA_ARGS "
        "(see tools/package_lambda.py)",
    )


def compiles_for(runtime: Runtime) -> bool:
    """Whether this interpreter's bytecode loads on the runtime, saying why not.

    .pyc files are per Python version: only the runtime's may compile them
    (always so in the SAM build image; on this machine when python matches).
    """
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if sys.implementation.name == "cpython" and here == runtime.python_version:
        return True
    warn(
        f"the zips hold no bytecode: .pyc files are per Python version, and "
        f"this is python{here}, not Lambda's python{runtime.python_version}; "
        "for faster cold starts build in the SAM build image (`./build.sh` "
        f"without --local) or with LAMBDA_BUILD_PYTHON=python"
        f"{runtime.python_version}, or set `bytecode = false` in lambdas.toml"
    )
    return False


def check_native_interpreter(runtime: Runtime) -> None:
    """Refuse ``--native`` with an interpreter other than the runtime's.

    The glibc of the machine is not compared: what matters is what the
    binaries built here need, which :func:`check_installed` reads from them.
    """
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    machine = platform.machine()
    if here != runtime.python_version or machine != runtime.machine:
        raise PackagingError(
            f"--native installs for this machine's python{here} {machine}, "
            f"which is not Lambda's {runtime}",
            hint="build in the SAM build image with `./build.sh NAME PATH`, "
            "or drop --native",
        )


def resolve_source(name: str, path: str) -> tuple[Path, str]:
    """Check one ``NAME PATH`` pair; return the folder and the module name.

    PATH must be a handler folder ``KIND/NAME`` of this project, NAME its
    folder's name, and the module must define NAME: anything else would ship
    code from elsewhere or a zip whose handler string does not resolve.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise PackagingError(
            f"`{name}` is not a valid Lambda name",
            hint="use letters, digits and `_` only",
        )
    folder = Path(os.path.normpath(ROOT / path))
    example = f"`./build.sh {name} ./{KINDS[0]}/{name}`"
    try:
        relative = folder.relative_to(ROOT)
        folder.resolve().relative_to(ROOT)
    except ValueError:
        raise PackagingError(
            f"Lambda folder `{path}` is outside the project",
            hint=f"PATH is a handler folder of this project, e.g. {example}",
        ) from None
    if len(relative.parts) != 2 or relative.parts[0] not in KINDS:
        raise PackagingError(
            f"Lambda folder `{path}` is not a handler folder `<kind>/<name>`",
            hint=f"PATH is a folder of {', '.join(KINDS)}, e.g. {example}",
        )
    if not folder.is_dir():
        raise PackagingError(
            f"Lambda folder `{path}` does not exist",
            hint=f"PATH is relative to the project root, e.g. {example}",
        )
    kind, folder_name = relative.parts
    if folder_name != name:
        raise PackagingError(
            f"`{name}` is not the handler in `{path}`",
            hint=f"NAME is the folder's name: `./build.sh {folder_name} {path}`",
        )
    module = folder / f"{kind}.py"
    if not module.is_file():
        raise PackagingError(
            f"Lambda folder `{path}` contains no `{kind}.py`",
            hint="a Lambda is a folder `<kind>/<name>/` holding `<kind>.py`",
        )
    if not defines(module, name):
        raise PackagingError(
            f"`{kind}/{name}/{kind}.py` defines no `{name}`, so the handler "
            f"`{kind}.{name}` would not resolve",
            hint=f"define `def {name}(event, context)` at the top level of the "
            "module (an `async def` is not a Lambda handler)",
        )
    return folder, kind


def defines(module: Path, name: str) -> bool:
    """Tell whether a module binds ``name`` at its top level as a handler.

    A ``def``, an assignment (``name = Mangum(app)``, also annotated) or
    ``from ... import name`` binds it; an ``async def`` does not count:
    Lambda's Python runtime calls the handler and does not await what it
    returns, and ``import name`` binds a module. The cases are listed in the
    lambda-scaffold repository's tests/handler_definitions.json, which the
    tool's own ``check`` is tested against too.
    """
    try:
        tree = ast.parse(module.read_bytes(), filename=str(module))
    except (SyntaxError, ValueError):
        return False
    bound: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            bound.add(node.name)
        elif isinstance(node, ast.Assign):
            bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if isinstance(node.target, ast.Name):
                bound.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            bound.update(alias.asname or alias.name for alias in node.names)
    return name in bound


def display(path: Path) -> str:
    """A path relative to the project root when it lies inside it."""
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def package(
    lambdas: list[tuple[str, str]],
    runtime: Runtime,
    native: bool,
    out: Path,
    jobs: int,
    layer: bool = False,
    bytecode: bool = False,
    packages: dict[str, list[str]] | None = None,
) -> None:
    """Build one zip per ``(NAME, PATH)`` on ``jobs`` threads.

    A zip whose inputs did not change since it was built is kept, and the
    dependencies are installed and compressed once per lock, then copied into
    every zip that holds them (see ``tools/build_cache.py``). Every zip is
    checked against Lambda's unzipped limit before the first is written.
    With ``layer``, the dependencies go into their own zip, a Lambda layer
    (``target/dependencies.zip``, under ``python/``), and not into the
    functions' zips. With ``bytecode``, the zips hold .pyc files too, when
    this interpreter is the runtime's (see :func:`compiles_for`).
    ``packages`` lists, by Lambda, the locked packages its zip holds (with
    what they require, see ``tools/handler_packages.py``); a Lambda without
    a list gets them all.
    """
    packages = packages or {}
    seen: dict[str, str] = {}
    for name, path in lambdas:
        if layer and name == LAYER_NAME:
            raise PackagingError(
                f"a Lambda named `{name}` would build `target/{name}.zip`, the "
                "dependencies' layer",
                hint='rename the handler, or set `dependencies = "bundle"` in '
                "lambdas.toml",
            )
        if name in seen:
            raise PackagingError(
                f"Lambda name `{name}` is given twice (`{seen[name]}` and `{path}`)",
                hint="every Lambda needs its own name: they share `target/`",
            )
        seen[name] = path
    check_package_lists(packages, seen, layer)
    # Every Lambda's code and the lock are checked before pip runs; a
    # requirements.txt that is not text is named as such, not as a stale lock.
    requirement_lines(ROOT / requirements_lock.REQUIREMENTS_FILE)
    lock = requirements_lock.check_fresh(ROOT, runtime.python_version, runtime.arch)
    handler_packages.check_locked(packages, lock.read_text(encoding="utf-8"))
    codes = [
        (name, lambda_code(name, *resolve_source(name, path))) for name, path in lambdas
    ]
    compiled = bytecode and compiles_for(runtime)
    shared = build_cache.settings_digest(
        ROOT / "tools", lock, build_settings(runtime, native, layer, compiled)
    )
    if layer:
        # The layer's entries are the dependencies, added below.
        codes.append((LAYER_NAME, {}))
    builds: list[Build] = []
    reports: dict[str, str] = {}
    for name, entries in codes:
        destination = out / f"{name}.zip"
        inputs = zip_inputs(shared, entries, packages.get(name))
        done = build_cache.built_already(destination, inputs)
        if done:
            reports[name] = zip_line(destination, done) + "  (unchanged)"
        else:
            builds.append(Build(name, entries, destination, inputs))

    if builds:
        if compiled:
            bytecode_of(builds, jobs)
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            dependencies: list[Member] = []
            if requirement_lines(lock):
                dependencies = build_cache.compressed_dependencies(
                    out,
                    shared.hexdigest(),
                    MAX_UNZIPPED,
                    lambda: install_and_compress(
                        lock, runtime, native, compiled, jobs, pool
                    ),
                )
            selected = selected_dependencies(
                dependencies,
                {
                    job.name: packages[job.name]
                    for job in builds
                    if job.name in packages
                },
                runtime,
            )

            def members(job: Build) -> list[Member]:
                bundled = selected.get(job.name, dependencies)
                return zip_members(job, bundled, layer)

            planned = list(pool.map(members, builds))
            for job, contents in zip(builds, planned, strict=True):
                with_layer = layer and job.name != LAYER_NAME
                layer_members = dependencies if with_layer else []
                check_unzipped(job.destination, [*contents, *layer_members], with_layer)
            written = pool.map(build_zip, builds, planned)
            for job, built in zip(builds, written, strict=True):
                reports[job.name] = zip_line(job.destination, built)
    for name, _ in codes:
        print(reports[name])


def check_package_lists(
    packages: dict[str, list[str]], lambdas: dict[str, str], layer: bool
) -> None:
    """Refuse package lists for Lambdas not built here, or in layer mode."""
    for name in packages:
        if name not in lambdas:
            raise PackagingError(
                f"`--packages` names `{name}`, which is not a Lambda of this build",
                hint="build.sh passes the `requirements` of the Lambdas it builds",
            )
        if layer:
            raise PackagingError(
                f"handler `{name}` lists `requirements` in lambdas.toml, but with "
                '`dependencies = "layer"` every function gets the one layer of '
                "all locked packages",
                hint="drop the entry's `requirements`, or set "
                '`dependencies = "bundle"` in lambdas.toml',
            )


def selected_dependencies(
    dependencies: list[Member], packages: dict[str, list[str]], runtime: Runtime
) -> dict[str, list[Member]]:
    """By Lambda, the dependencies' members its listed packages need."""
    if not packages:
        return {}
    by_name = {member.name: member for member in dependencies}
    installed = handler_packages.Installed(
        by_name, lambda arcname: by_name[arcname].data()
    )
    environment = handler_packages.marker_environment(
        runtime.python_version, runtime.machine
    )
    selected = {}
    for name, listed in packages.items():
        files = installed.files_of(listed, environment)
        selected[name] = [member for member in dependencies if member.name in files]
    return selected


def build_settings(runtime: Runtime, native: bool, layer: bool, bytecode: bool) -> str:
    """The settings every zip of a build is built with, for its stamp.

    ``bytecode``: whether it holds .pyc files, compiled by the runtime's
    Python version (valid for every patch release of it).
    """
    compiled = runtime.python_version if bytecode else "no"
    return (
        f"{runtime.python_version} {runtime.arch} native={native} layer={layer} "
        f"bytecode={compiled}"
    )


def zip_inputs(
    shared: hashlib._Hash, entries: dict[str, Source], listed: list[str] | None
) -> str:
    """The hash of a zip's inputs: the build's settings, its own code and
    the packages its entry lists, if it lists any."""
    if listed is not None:
        shared = shared.copy()
        shared.update(f"packages={','.join(listed)}\0".encode())
    return build_cache.zip_inputs(
        shared, ((a, *content(s)) for a, s in entries.items())
    )


def stage_built(
    name: str,
    path: str,
    runtime: Runtime,
    layer: bool,
    out: Path,
    destination: Path,
    opt: Path | None,
    listed: list[str] | None,
) -> None:
    """Extract the built zip of a Lambda into ``destination`` (and in layer
    mode the layer's into ``opt``), refusing one that is missing, unsafe, or
    not built from the current inputs (by either mode of build.sh, with or without
    bytecode)."""
    folder, kind = resolve_source(name, path)
    lock = requirements_lock.check_fresh(ROOT, runtime.python_version, runtime.arch)
    rebuild = f"`./build.sh --local {name} ./{kind}/{name}` (or without --local)"
    zips = [(out / f"{name}.zip", lambda_code(name, folder, kind), destination)]
    if layer and opt is not None:
        zips.append((out / f"{LAYER_NAME}.zip", {}, opt))
    for zip_path, entries, _ in zips:
        if not zip_path.is_file():
            raise PackagingError(
                f"`{display(zip_path)}` is missing: `invoke --zip` runs the built zip",
                hint=f"build it first: {rebuild}",
            )
        try:
            built_zip.check(zip_path)
        except built_zip.BadZip as error:
            raise PackagingError(
                f"`{display(zip_path)}` is not extracted: {error}",
                hint=f"build it again: {rebuild}; a zip from elsewhere is never run",
            ) from None
        built = (
            build_cache.settings_digest(
                ROOT / "tools", lock, build_settings(runtime, native, layer, bytecode)
            )
            for native in (False, True)
            for bytecode in (False, True)
        )
        if not any(
            build_cache.built_already(
                zip_path,
                zip_inputs(
                    shared, entries, None if zip_path.stem == LAYER_NAME else listed
                ),
            )
            for shared in built
        ):
            raise PackagingError(
                f"`{display(zip_path)}` is older than its inputs: the code, "
                "utils/, requirements.lock, the packager or the build settings "
                "changed since it was built",
                hint=f"build it again: {rebuild}",
            )
    for zip_path, _, into in zips:
        stage({}, into)
        try:
            built_zip.extract(zip_path, into)
        except built_zip.BadZip as error:
            raise PackagingError(
                f"`{display(zip_path)}` is not extracted: {error}",
                hint=f"build it again: {rebuild}",
            ) from None


class Build(NamedTuple):
    """A zip to write: the Lambda's name, its code, where, and its inputs."""

    name: str
    entries: dict[str, Source]
    destination: Path
    inputs: str


def install_and_compress(
    lock: Path,
    runtime: Runtime,
    native: bool,
    bytecode: bool,
    jobs: int,
    pool: concurrent.futures.Executor,
) -> list[Member]:
    """Install the lock's packages, check them, compile them with
    ``bytecode``, and compress each file once."""
    with tempfile.TemporaryDirectory(prefix="package_lambda-") as staging:
        folder = Path(staging)
        install_dependencies(lock, folder, runtime, native)
        check_installed(folder, runtime, native)
        if bytecode:
            compile_bytecode(folder, jobs)
        entries = sorted(collect(folder, bytecode).items())
        return list(pool.map(lambda entry: code_member(*entry), entries))


def code_member(arcname: str, source: Source) -> Member:
    """The zip member of one file, compressed."""
    return deterministic_zip.file_member(arcname, *content(source))


def zip_members(job: Build, dependencies: list[Member], layer: bool) -> list[Member]:
    """What the zip of ``job`` holds: its code, and the dependencies' members
    (compressed once, copied) when they are bundled; the layer holds those
    under ``python/``."""
    if job.name == LAYER_NAME and layer:
        return [member.renamed(f"python/{member.name}") for member in dependencies]
    code = [code_member(arcname, source) for arcname, source in job.entries.items()]
    if layer:
        return code
    clashes = sorted({member.name for member in dependencies}.intersection(job.entries))
    if clashes:
        arcname = clashes[0]
        raise PackagingError(
            f"`{arcname}` would come from both `{origin_of(job.entries[arcname])}` "
            f"and the locked dependencies ({requirements_lock.LOCK_FILE}) in "
            f"`{job.name}.zip`",
            hint="rename one of them; every zip path must be unique",
        )
    return [*code, *dependencies]


def megabytes(size: int) -> str:
    """A size as Lambda's quotas state them (MB of 1,048,576 bytes)."""
    return f"{size / MEGABYTE:.2f} MB"


def check_unzipped(destination: Path, members: list[Member], with_layer: bool) -> None:
    """Refuse a zip that, with its layer, unzips over Lambda's limit,
    naming the largest packages (the top folders of the zip)."""
    total = build_cache.unzipped(members)
    if total <= MAX_UNZIPPED:
        return
    by_folder: dict[str, int] = {}
    for member in members:
        top = member.name.removeprefix("python/").split("/")[0]
        by_folder[top] = by_folder.get(top, 0) + member.size
    largest = sorted(by_folder.items(), key=lambda item: (-item[1], item[0]))[:5]
    raise PackagingError(
        f"`{display(destination)}` would unzip to {megabytes(total)}"
        f"{' with its layer' if with_layer else ''}, over "
        f"Lambda's limit of {megabytes(MAX_UNZIPPED)}; the largest: "
        + ", ".join(f"`{name}` {megabytes(size)}" for name, size in largest),
        hint="trim requirements.txt (and requirements.lock with `./build.sh "
        "--lock`), or deploy the function as a container image",
    )


def zip_line(destination: Path, built: build_cache.Built) -> str:
    """What the build prints of a zip: its path, sizes and sha256.

    A zip over Lambda's limit for a direct upload is said to go through S3.
    """
    if built.size > MAX_ZIPPED:
        warn(
            f"`{display(destination)}` is {megabytes(built.size)} zipped, over "
            f"the {megabytes(MAX_ZIPPED)} Lambda takes in a direct upload: it "
            "is deployed through S3 (`sam deploy` uploads it to its bucket; "
            "`./deploy.sh --code-only` needs DEPLOY_BUCKET)"
        )
    return (
        f"{display(destination)}  {megabytes(built.size)} zipped, "
        f"{megabytes(built.unzipped)} unzipped  sha256:{built.sha256}"
    )


def build_zip(job: Build, members: list[Member]) -> build_cache.Built:
    """Write one zip and its stamp; return what the stamp records."""
    try:
        build_cache.forget(job.destination)
        data = write_zip(job.destination, members)
    except ZipError as error:
        raise PackagingError(
            f"cannot write `{display(job.destination)}`: {error}",
            hint="Lambda takes at most 250 MB unzipped: trim requirements.txt",
        ) from None
    except OSError as error:
        raise PackagingError(
            f"cannot write `{display(job.destination)}`: {error.strerror or error}",
            hint=f"`{display(job.destination.parent)}` must be a folder the build "
            "can write to; move away whatever is in the way",
        ) from None
    built = build_cache.Built(
        len(data), hashlib.sha256(data).hexdigest(), build_cache.unzipped(members)
    )
    build_cache.write_stamp(job.destination, job.inputs, built)
    return built


def write_lock(runtime: Runtime) -> None:
    """Write ``requirements.lock`` for the runtime and say so on stdout."""
    lock = requirements_lock.write_lock(
        ROOT,
        runtime.python_version,
        runtime.arch,
        requirements_lock.uv_platform(runtime.machine, runtime.glibc),
        bool(requirement_lines(ROOT / requirements_lock.REQUIREMENTS_FILE)),
    )
    print(f"{display(lock)}  resolved for Lambda's {runtime}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Turn the command line into options, pairing NAME and PATH."""
    parser = argparse.ArgumentParser(
        prog="package_lambda.py",
        usage="%(prog)s --python-version X.Y --arch ARCH [options] -- "
        "NAME PATH [NAME PATH ...]",
        description="Build target/NAME.zip for each Lambda folder PATH "
        "(relative to the project root). build.sh passes the settings of "
        "lambdas.toml.",
        epilog="PIP_EXTRA_ARGS: extra pip options, e.g. "
        '"--no-index --find-links ./wheels" (paths relative to the project root).',
    )
    parser.add_argument("lambdas", nargs="*", metavar="NAME PATH")
    parser.add_argument(
        "--python-version",
        help="Lambda runtime Python version (`python` of lambdas.toml)",
    )
    parser.add_argument(
        "--arch",
        help="Lambda architecture, x86_64 or arm64 (`arch` of lambdas.toml)",
    )
    parser.add_argument(
        "--native",
        action="store_true",
        help="install for the running interpreter, compiling packages that "
        "ship only source code (only inside the SAM build image)",
    )
    parser.add_argument(
        "--dependencies",
        choices=("bundle", "layer"),
        default="bundle",
        help="bundle the dependencies into every zip, or put them into one "
        "layer, target/dependencies.zip (`dependencies` of lambdas.toml)",
    )
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="compile .pyc files (unchecked-hash) into the zips when this "
        "interpreter is the runtime's (`bytecode` of lambdas.toml)",
    )
    parser.add_argument(
        "--packages",
        action="append",
        default=[],
        metavar="NAME=PACKAGE,...",
        help="the zip of Lambda NAME holds only these locked packages and what "
        "they require (`requirements` of its entry in lambdas.toml; bundle "
        "mode); repeat for each Lambda",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="zips written at once (default: the number of cores, %(default)s)",
    )
    parser.add_argument(
        "--out",
        default="target",
        help="output folder, relative to the project root (default: %(default)s)",
    )
    parser.add_argument(
        "--stage",
        metavar="DIR",
        help="write the Lambda's code (the zip's files, no dependencies) into "
        "the empty folder DIR instead of building its zip",
    )
    parser.add_argument(
        "--from-zip",
        action="store_true",
        help="with --stage: extract the built target/NAME.zip into DIR instead, "
        "refusing one that is missing, unsafe or older than its inputs",
    )
    parser.add_argument(
        "--opt",
        metavar="DIR",
        help="with --from-zip in layer mode: the empty folder that gets the "
        "layer's files (Lambda's /opt)",
    )
    lock_actions = parser.add_mutually_exclusive_group()
    lock_actions.add_argument(
        "--lock",
        action="store_true",
        help="resolve requirements.txt for the runtime into requirements.lock "
        "(with uv), instead of building",
    )
    lock_actions.add_argument(
        "--check-lock",
        action="store_true",
        help="only check that requirements.lock matches requirements.txt and "
        "the runtime",
    )
    args = parser.parse_args(argv)
    if args.lock or args.check_lock:
        if args.lambdas or args.stage:
            parser.error("--lock and --check-lock take no NAME PATH")
    elif not args.lambdas:
        parser.error("expected NAME PATH pairs")
    if len(args.lambdas) % 2:
        parser.error("expected NAME PATH pairs, got an odd number of arguments")
    if args.stage and len(args.lambdas) != 2:
        parser.error("--stage takes one NAME PATH pair")
    if args.from_zip and not args.stage:
        parser.error("--from-zip goes with --stage")
    if args.from_zip and (args.dependencies == "layer") != bool(args.opt):
        parser.error("--opt DIR goes with --from-zip in layer mode, and only then")
    if (args.from_zip or not args.stage) and not (args.python_version and args.arch):
        parser.error("--python-version and --arch are required to build zips")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point: package the Lambdas named on the command line."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    pairs = [tuple(args.lambdas[i : i + 2]) for i in range(0, len(args.lambdas), 2)]
    out = Path(args.out)
    if not out.is_absolute():
        out = ROOT / out
    try:
        packages = handler_packages.parse_lists(args.packages)
        if args.from_zip:
            [(name, path)] = pairs
            stage_built(
                name,
                path,
                Runtime(args.python_version, args.arch),
                args.dependencies == "layer",
                out,
                Path(args.stage),
                Path(args.opt) if args.opt else None,
                packages.get(name),
            )
        elif args.stage:
            [(name, path)] = pairs
            stage(lambda_code(name, *resolve_source(name, path)), Path(args.stage))
        else:
            runtime = Runtime(args.python_version, args.arch)
            if args.lock:
                write_lock(runtime)
            elif args.check_lock:
                requirements_lock.check_fresh(
                    ROOT, runtime.python_version, runtime.arch
                )
            else:
                package(
                    pairs,
                    runtime,
                    args.native,
                    out,
                    max(1, args.jobs),
                    layer=args.dependencies == "layer",
                    bytecode=args.bytecode,
                    packages=packages,
                )
    except (PackagingError, LockError, SelectionError) as error:
        print(f"error: {error}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return 1
    except OSError as error:
        where = f" `{display(Path(error.filename))}`" if error.filename else ""
        print(f"error: cannot build{where}: {error.strerror or error}", file=sys.stderr)
        print("hint: check that the project's files are readable", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
