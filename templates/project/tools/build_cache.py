"""What lets a build skip work it has done: a stamp beside each zip, and the
installed dependencies kept per lock and platform.

A zip's inputs are its entries (names, bytes and modes: the Lambda's code and
``utils/``), ``requirements.lock``, the packager itself (``tools/*.py``), the
runtime (``python``, ``arch``), the ``--native`` mode and zlib's version. The
sha256 of all of them is written beside the zip, in ``target/NAME.zip.inputs``
with the zip's size and sha256; a build whose inputs hash the same and finds
the zip of that size keeps it. The zip is the same bytes a clean build writes,
since the zip is a function of exactly these inputs.

Installed dependencies are kept in ``target/.cache/dependencies/KEY/``, KEY
the hash of the lock, the runtime, the mode and the packager: pip runs once
per lock, and never when no zip needs rebuilding. A folder appears there only
once it is complete and checked (it is renamed into place), so an interrupted
build leaves nothing half installed to reuse. ``rm -rf target`` forgets all.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

STAMP_SUFFIX = ".inputs"
DEPENDENCY_CACHE = Path(".cache") / "dependencies"


def settings_digest(tools: Path, lock: Path, settings: str) -> hashlib._Hash:
    """A running hash of what every zip of a build shares.

    ``settings`` names the runtime and mode (``3.12 x86_64 native=False``).
    """
    digest = hashlib.sha256()
    for tool in sorted(tools.glob("*.py")):
        digest.update(tool.name.encode() + b"\0" + tool.read_bytes() + b"\0")
    digest.update(lock.read_bytes() + b"\0")
    digest.update(f"{settings} zlib={zlib.ZLIB_RUNTIME_VERSION}\0".encode())
    return digest


def zip_inputs(
    shared: hashlib._Hash, entries: Iterable[tuple[str, bytes, bool]]
) -> str:
    """The hash of one zip's inputs: ``shared`` plus its own entries."""
    digest = shared.copy()
    for arcname, data, executable in sorted(entries):
        digest.update(f"{arcname}\0{int(executable)}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def stamp_path(destination: Path) -> Path:
    """Where the stamp of the zip ``destination`` is kept."""
    return destination.with_name(destination.name + STAMP_SUFFIX)


def built_already(destination: Path, inputs: str) -> tuple[int, str] | None:
    """The size and sha256 of a zip built from ``inputs``, if it is there."""
    try:
        fields = stamp_path(destination).read_text(encoding="ascii").split()
        size = destination.stat().st_size
    except (OSError, UnicodeDecodeError):
        return None
    if len(fields) != 3 or fields[0] != inputs or fields[1] != str(size):
        return None
    return size, fields[2]


def write_stamp(destination: Path, inputs: str, size: int, sha256: str) -> None:
    """Record the inputs a zip was built from, once it is written."""
    write_atomically(stamp_path(destination), f"{inputs} {size} {sha256}\n".encode())


def forget(destination: Path) -> None:
    """Drop a zip's stamp before it is rebuilt, so a failure never keeps it."""
    stamp_path(destination).unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Write a small file through a temporary file and a rename."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def installed(out: Path, key: str, install: Callable[[Path], None]) -> Path:
    """The folder of dependencies installed for ``key``, installing if need be.

    ``install`` fills an empty temporary folder (and checks it); it moves into
    the cache only when that succeeds, so a refused install leaves ``out`` as
    it was.
    """
    cache = out / DEPENDENCY_CACHE
    folder = cache / key
    if folder.is_dir():
        return folder
    with tempfile.TemporaryDirectory(prefix="package_lambda-") as staging:
        install(Path(staging))
        cache.mkdir(parents=True, exist_ok=True)
        # Moved in under a temporary name (a copy when the system's temporary
        # folder is on another file system), then renamed into place.
        moving = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=cache))
        try:
            shutil.move(staging, moving / "installed")
            try:
                os.rename(moving / "installed", folder)
            except OSError:
                # Another build installed the same lock meanwhile: use its folder.
                if not folder.is_dir():
                    raise
        finally:
            shutil.rmtree(moving, ignore_errors=True)
    return folder
