"""What lets a build skip work it has done: a stamp beside each zip, and the
dependencies compressed once per lock and platform.

A zip's inputs are its entries (names, bytes and modes: the Lambda's code and
``utils/``), the packages its entry lists, if any, ``requirements.lock``, the packager itself (``tools/*.py``), the
runtime (``python``, ``arch``), the ``--native`` mode and zlib's version. The
sha256 of all of them is written beside the zip, in ``target/NAME.zip.inputs``
with the zip's size, sha256 and unzipped size; a build whose inputs hash the
same and finds the zip of that size, not newer than its stamp, keeps it. The
zip is the same bytes a clean build writes, since the zip is a function of
exactly these inputs.

The installed dependencies are compressed once and kept in
``target/.cache/dependencies/KEY.zip`` (with its stamp), KEY the hash of the
lock, the runtime, the mode and the packager: pip and zlib run once per lock,
and every zip copies the compressed bytes from there. The cache is checked
when read back, since anyone may have changed it: its sha256 must be its
stamp's, and every member a plain file of at most what a Lambda may unzip to
(250 MB) that inflates to its recorded size and CRC, and no further
(``tools/deterministic_zip.py``). One that fails is named and built again,
never shipped. It is written to a temporary file and renamed into place, so an
interrupted build leaves nothing half written. ``rm -rf target`` forgets all.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

import deterministic_zip
from deterministic_zip import Member, ZipError

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


class Built(NamedTuple):
    """What a stamp records of a zip, beside the inputs it was built from."""

    size: int
    sha256: str
    unzipped: int


def built_already(destination: Path, inputs: str) -> Built | None:
    """What is known of a zip built from ``inputs``, if it is there.

    The stamp is written after its zip: a zip written since (by hand, by
    another tool) is newer than its stamp and is not known, even at its size.
    """
    stamp = stamp_path(destination)
    try:
        fields = stamp.read_text(encoding="ascii").split()
        stamped_at = stamp.stat().st_mtime_ns
        found = destination.stat()
    except (OSError, UnicodeDecodeError):
        return None
    if found.st_mtime_ns > stamped_at:
        return None
    if len(fields) != 4 or fields[0] != inputs or fields[1] != str(found.st_size):
        return None
    if not (fields[3].isdigit() and fields[3].isascii()):
        return None
    return Built(found.st_size, fields[2], int(fields[3]))


def write_stamp(destination: Path, inputs: str, built: Built) -> None:
    """Record the inputs a zip was built from, once it is written."""
    line = f"{inputs} {built.size} {built.sha256} {built.unzipped}\n"
    write_atomically(stamp_path(destination), line.encode())


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


def compressed_dependencies(
    out: Path, key: str, max_size: int, compress: Callable[[], list[Member]]
) -> list[Member]:
    """The dependencies' members for ``key``, compressed once and kept.

    ``compress`` installs, checks and compresses them; it runs when the cache
    holds nothing for ``key``, or something that fails the checks, such as a
    member of more than ``max_size`` bytes (Lambda's unzipped limit). What it
    returns is kept only once it is written whole.
    """
    path = out / DEPENDENCY_CACHE / f"{key}.zip"
    if path.exists() or stamp_path(path).exists():
        try:
            return kept_members(path, key, max_size)
        except ZipError as error:
            print(
                f"warning: the cached dependencies `{path}` are not what the "
                f"build wrote ({error}): installing them again",
                file=sys.stderr,
            )
            forget(path)
    members = compress()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = deterministic_zip.zip_bytes(members)
    write_atomically(path, data)
    built = Built(len(data), hashlib.sha256(data).hexdigest(), unzipped(members))
    write_stamp(path, key, built)
    return members


def kept_members(path: Path, key: str, max_size: int) -> list[Member]:
    """The members of the cached zip ``path``, checked against its stamp,
    none of more than ``max_size`` bytes."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ZipError(error.strerror or str(error)) from error
    built = built_already(path, key)
    if built is None:
        raise ZipError("its stamp is missing or does not match it")
    if built.sha256 != hashlib.sha256(data).hexdigest():
        raise ZipError("its sha256 is not its stamp's")
    members = deterministic_zip.read_members(data, max_size)
    if unzipped(members) != built.unzipped:
        raise ZipError("its size unzipped is not its stamp's")
    return members


def unzipped(members: Iterable[Member]) -> int:
    """The bytes ``members`` take once extracted."""
    return sum(member.size for member in members)
