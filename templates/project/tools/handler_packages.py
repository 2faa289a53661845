"""Which locked packages go into a handler's zip, in bundle mode.

A ``[[handlers]]`` entry of ``lambdas.toml`` may list the packages its
handler needs: ``requirements = ["requests"]``. ``build.sh`` reads the list
(package names only, anything else stops it) and passes it on as
``--packages NAME=requests``. That zip then holds those packages and what
they require, as the installed distributions' metadata says
(``Requires-Dist``; markers evaluated for the Lambda runtime's Python and
platform, extras followed), and nothing else: the files come from the one
installation of ``requirements.lock``, so no version other than the lock's
ever ships. A zip whose entry lists nothing holds every locked package.

The runtime's Python is known as X.Y only: Lambda moves a runtime to new
patch releases by itself, and the build cannot know which one a zip will
meet. So a marker is evaluated with ``python_full_version`` (and
``implementation_version``, the same on CPython) at every patch release of
X.Y where its answer could change: X.Y.0, and each patch the marker names
(with the one after it; and each start of a longer number, for ``in``). One
answer everywhere is followed; a marker whose answer depends on the patch
release is refused, naming it, rather than guessed.
"""

from __future__ import annotations

import csv
import posixpath
import re
from collections.abc import Callable, Iterable

# pip vendors packaging; pip is the one tool every build runs already.
from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
LOCKED = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==")
# Where pip --target puts a distribution's modules, relative to its RECORD.
LIBRARY = "lib/python"


class SelectionError(Exception):
    """The packages of a zip cannot be chosen; the message is shown."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def normalize(name: str) -> str:
    """A package name as PEP 503 compares names."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lists(options: list[str]) -> dict[str, list[str]]:
    """The ``--packages NAME=a,b`` options, as package lists by Lambda name.

    Every package must be a name (PEP 508) and listed once; ``NAME=`` is an
    empty list (a zip with no dependencies).
    """
    lists: dict[str, list[str]] = {}
    for option in options:
        lambda_name, separator, listed = option.partition("=")
        names = listed.split(",") if listed else []
        if not separator or lambda_name in lists:
            raise SelectionError(
                f"`--packages {option}` is not one `NAME=package,...` per Lambda",
                hint="build.sh passes the `requirements` of lambdas.toml this way",
            )
        seen: set[str] = set()
        for name in names:
            if not NAME.fullmatch(name):
                raise SelectionError(
                    f"`{name}` in the `requirements` of `{lambda_name}` is not a "
                    "package name",
                    hint="list package names only, e.g. "
                    '`requirements = ["requests"]`, in lambdas.toml',
                )
            if normalize(name) in seen:
                raise SelectionError(
                    f"`{name}` is listed twice in the `requirements` of "
                    f"`{lambda_name}`",
                    hint="list each package once in lambdas.toml",
                )
            seen.add(normalize(name))
        lists[lambda_name] = names
    return lists


def check_locked(lists: dict[str, list[str]], lock_text: str) -> None:
    """Refuse a listed package that requirements.lock does not pin."""
    locked = {
        normalize(found.group(1))
        for found in map(LOCKED.match, lock_text.splitlines())
        if found
    }
    for lambda_name, names in lists.items():
        for name in names:
            if normalize(name) not in locked:
                raise SelectionError(
                    f"`{name}` in the `requirements` of `{lambda_name}` is not in "
                    "requirements.lock",
                    hint="add it to requirements.txt and run `./build.sh --lock`, "
                    "or drop it from the handler's entry in lambdas.toml",
                )


def marker_environment(python_version: str, machine: str) -> dict[str, str]:
    """What environment markers see on Lambda's runtime, but its patch
    release (see :func:`marker_holds`)."""
    return {
        "python_version": python_version,
        "platform_machine": machine,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


def full_versions(marker: str, python_version: str) -> list[str]:
    """The patch releases of ``python_version`` at which ``marker`` may
    answer differently: X.Y.0, each patch it names for X.Y (``"X.Y"`` names
    0; each start of the number too: ``"3.12.1" in "3.12.10"`` holds) and
    the one after each.

    A comparison with a version changes its answer at that version or just
    after it; an answer that holds between two of these holds at the first.
    """
    version = re.escape(python_version)
    named = re.findall(rf"(?<![0-9.]){version}(?:\.([0-9]+))?(?![0-9])", marker)
    patches = {0}
    for patch_named in named:
        digits = patch_named or "0"
        for end in range(1, len(digits) + 1):
            patch = int(digits[:end])
            patches.update((patch, patch + 1))
    return [f"{python_version}.{patch}" for patch in sorted(patches)]


def marker_holds(
    needed: Requirement, distribution: str, environment: dict[str, str], extra: str
) -> bool:
    """Whether the requirement ``needed`` of ``distribution`` applies on the
    runtime, on every patch release of its Python: refused when the answer
    depends on the patch release, which the build cannot know."""
    marker = needed.marker
    if marker is None:
        return True
    python_version = environment["python_version"]
    answers = {
        marker.evaluate(
            {
                **environment,
                "python_full_version": version,
                "implementation_version": version,
                "extra": extra,
            }
        )
        for version in full_versions(str(marker), python_version)
    }
    if len(answers) > 1:
        raise SelectionError(
            f"`{distribution}` requires `{needed}` on some patch releases of "
            f"python{python_version} and not on others: Lambda moves a runtime to "
            "new patch releases by itself, so the build cannot tell whether the "
            "zip needs it",
            hint=f"pin a version of `{distribution}` whose requirements do not depend "
            "on the patch release in requirements.txt and run `./build.sh --lock`, "
            "or drop the `requirements` of the handler's entry in lambdas.toml",
        )
    return answers.pop()


class Installed:
    """The distributions of one installation: what each requires, and its files.

    ``files`` are the installation's paths; ``read`` gives one's bytes.
    """

    def __init__(self, files: Iterable[str], read: Callable[[str], bytes]) -> None:
        self.files = list(files)
        self.requires: dict[str, list[Requirement]] = {}
        self.owner: dict[str, str] = {}
        for path in self.files:
            folder, _, base = path.rpartition("/")
            if base != "METADATA" or "/" in folder or not folder.endswith(".dist-info"):
                continue
            metadata = read(path).decode("utf-8", "replace")
            names = header(metadata, "Name") or [folder.split("-")[0]]
            name = normalize(names[0])
            self.requires[name] = [
                requirement(line, name) for line in header(metadata, "Requires-Dist")
            ]
            record = f"{folder}/RECORD"
            text = (
                read(record).decode("utf-8", "replace") if record in self.files else ""
            )
            for row in csv.reader(text.splitlines()):
                if row:
                    self.owner[installed_path(row[0])] = name

    def closure(self, listed: list[str], environment: dict[str, str]) -> set[str]:
        """The listed distributions and all they require on the runtime."""
        done: dict[str, set[str]] = {}
        todo = [(normalize(name), "") for name in listed]
        while todo:
            name, extra = todo.pop()
            if extra in done.setdefault(name, set()):
                continue
            done[name].add(extra)
            if name not in self.requires:
                raise SelectionError(
                    f"`{name}` is needed but was not installed from requirements.lock",
                    hint="run `./build.sh --lock` to resolve requirements.txt again",
                )
            for needed in self.requires[name]:
                if marker_holds(needed, name, environment, extra):
                    todo.append((normalize(needed.name), ""))
                    todo.extend((normalize(needed.name), e) for e in needed.extras)
        return set(done)

    def files_of(self, listed: list[str], environment: dict[str, str]) -> set[str]:
        """The files of the listed distributions and of all they require.

        Bytecode compiled after installing (``x/__pycache__/m.TAG.pyc``) goes
        with its module (``x/m.py``).
        """
        wanted = self.closure(listed, environment)
        return {
            path for path in self.files if self.owner.get(source_of(path)) in wanted
        }


def header(metadata: str, key: str) -> list[str]:
    """The values of a field of a METADATA file's header."""
    values = []
    for line in metadata.splitlines():
        if not line:
            break
        field, separator, value = line.partition(":")
        if separator and field == key:
            values.append(value.strip())
    return values


def requirement(line: str, distribution: str) -> Requirement:
    try:
        return Requirement(line)
    except InvalidRequirement as error:
        raise SelectionError(
            f"`{distribution}` has a requirement that cannot be read: `{line}` ({error})",
            hint="pin another version of it in requirements.txt, then run "
            "`./build.sh --lock`",
        ) from None


def installed_path(recorded: str) -> str:
    """A RECORD path (relative to pip's library folder) as an installed path."""
    path = posixpath.normpath(posixpath.join(LIBRARY, recorded))
    return path.removeprefix(f"{LIBRARY}/")


def source_of(path: str) -> str:
    """The module a compiled file under ``__pycache__`` comes from, else ``path``."""
    folder, _, base = path.rpartition("/")
    parent, _, cache = folder.rpartition("/")
    if cache != "__pycache__" or not base.endswith(".pyc"):
        return path
    module = base.split(".")[0] + ".py"
    return f"{parent}/{module}" if parent else module
