#!/usr/bin/env python3
"""Makes a log-centric project with N added handlers, quickly, exactly as
`lambda-scaffold new-project my-service --layout log-centric --no-input` followed by
N calls of `lambda-scaffold add-handler` would leave it.

Handler i (1-based) is the producer `event_<i:05>` when i is odd, the consumer
`sink_<i:05>` when i is even, added in that order. The project therefore has N + 2
handlers: the two examples of new-project (log_event, log_sink) and the N added ones.

How: the real binary makes the base project and, in two scratch copies of it, one
seed handler of each kind (`qqseedp`, `qqseedc`). Each seed's files, their modes and
the `[[handlers]]` entry that add-handler appended to lambdas.toml become templates:
the seed name (and its UpperCamelCase form, as heck's to_upper_camel_case gives it)
is replaced by the new name. The handler's record file,
`.lambda-scaffold/generated/KIND/NAME.sha256`, is not templated but rewritten: one
`HEX  PATH` line (sha256sum format) per generated file of the handler, sorted by path,
under the `# lambda-scaffold VERSION` line of the seed's record,
with the sha256 of the new file's bytes; the model is checked against the seed's own
record, byte for byte. Folders add-handler creates outside the handler's folders
(e.g. `.lambda-scaffold/generated/KIND` when missing) are made once, with the seed's mode.

Usage:
  make_project.py --bin BIN --n N --out DIR [--reuse]   # DIR/my-service
  make_project.py --bin BIN --verify [--n 3]            # byte-for-byte against real add-handler
  make_project.py --bin BIN --verify-step --n 1000      # N, then one real add-handler, == N + 1
With --reuse, DIR is kept when its stamp matches this binary's seed output and N.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

PROJECT = "my-service"
SEEDS = {"producers": "qqseedp", "consumers": "qqseedc"}


def camel(name):
    """heck's to_upper_camel_case for snake_case names of lowercase letters and digits."""
    return "".join(w[:1].upper() + w[1:].lower() for w in name.split("_") if w)


def handler(i):
    return ("producers", f"event_{i:05}") if i % 2 else ("consumers", f"sink_{i:05}")


def run(args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)


def new_project(binary, where):
    os.makedirs(where, exist_ok=True)
    run([binary, "new-project", PROJECT, "--layout", "log-centric", "--no-input"], where)
    return os.path.join(where, PROJECT)


def tree(root):
    """{relative path: (mode, bytes or None for a folder)} of every file and folder."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            out[os.path.relpath(p, root)] = (os.lstat(p).st_mode, None)
        for f in filenames:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = (os.lstat(p).st_mode, fh.read())
    return out


class Seed:
    """What add-handler writes for one kind, as templates over the handler's name."""

    def __init__(self, binary, base, scratch, kind):
        seed = SEEDS[kind]
        proj = os.path.join(scratch, kind, PROJECT)
        os.makedirs(os.path.dirname(proj))
        shutil.copytree(base, proj, symlinks=True)
        before = tree(proj)
        run([binary, "add-handler", kind, seed], proj)
        after = tree(proj)
        old_toml = before["lambdas.toml"][1].decode()
        new_toml = after["lambdas.toml"][1].decode()
        if not new_toml.startswith(old_toml):
            sys.exit("make_project.py: add-handler did not append to lambdas.toml; "
                     "the generator's model of it is out of date")
        self.entry = new_toml[len(old_toml):]
        if "sha256" in self.entry or "files." in self.entry:
            sys.exit("make_project.py: add-handler's lambdas.toml entry carries file hashes; "
                     "the generator's model of it is out of date")
        self.kind, self.seed, self.seed_class = kind, seed, camel(seed)
        changed = sorted(p for p in after if p != "lambdas.toml" and after[p] != before.get(p))
        rec = self.record_path(seed)
        if rec not in changed or after[rec][1] is None:
            sys.exit(f"make_project.py: add-handler {kind} wrote no record file {rec}")
        changed.remove(rec)
        self.record_mode = after[rec][0]
        # the version line(s) of the record: the tool version that wrote it
        self.record_head = "".join(
            line for line in after[rec][1].decode().splitlines(keepends=True) if line.startswith("#"))
        # new folders that are not the handler's own (made once, by the first handler)
        self.shared = [(p, after[p][0]) for p in changed
                       if seed not in p and p not in before and after[p][1] is None]
        outside = [p for p in changed if seed not in p and (p, after[p][0]) not in self.shared]
        if outside:
            sys.exit(f"make_project.py: add-handler {kind} wrote outside the handler's folders: {outside}")
        self.items = [(p, after[p][0], after[p][1]) for p in changed if seed in p]  # folders sort first
        _items, record = self.render(seed)
        if record[2] != after[rec][1]:
            sys.exit(f"make_project.py: the record file {rec} that add-handler wrote is not "
                     "what the generator's model gives; the model is out of date")

    def record_path(self, name):
        return f".lambda-scaffold/generated/{self.kind}/{name}.sha256"

    def sub(self, text, name):
        return text.replace(self.seed, name).replace(self.seed_class, camel(name))

    def render(self, name):
        """[(path, mode, bytes or None)], (record path, mode, bytes)."""
        items, hashes = [], {}
        for path, mode, data in self.items:
            path = path.replace(self.seed, name)
            if data is not None:
                data = self.sub(data.decode(), name).encode()
                hashes[path] = hashlib.sha256(data).hexdigest()
            items.append((path, mode, data))
        record = (self.record_head + "".join(f"{hashes[p]}  {p}\n" for p in sorted(hashes))).encode()
        return items, (self.record_path(name), self.record_mode, record)

    def entry_for(self, name):
        return self.sub(self.entry, name)


def seeds(binary, scratch):
    base = new_project(binary, os.path.join(scratch, "base"))
    return base, {k: Seed(binary, base, scratch, k) for k in SEEDS}


def stamp_of(base, seed_map, n):
    h = hashlib.sha256(b"make_project v2 (record files) n=%d\n" % n)
    for rel, (mode, data) in sorted(tree(base).items()):
        h.update(b"%s %o %s\n" % (rel.encode(), mode, b"-" if data is None else hashlib.sha256(data).hexdigest().encode()))
    for kind in sorted(seed_map):
        s = seed_map[kind]
        h.update(s.entry.encode())
        h.update(b"record %o\n" % s.record_mode)
        for path, mode in s.shared:
            h.update(b"shared %s %o\n" % (path.encode(), mode))
        for path, mode, data in s.items:
            h.update(b"%s %o %s\n" % (path.encode(), mode, data or b"-"))
    return h.hexdigest()


def build(binary, n, out, reuse):
    """Makes OUT/my-service; returns 'reused' or 'built'."""
    with tempfile.TemporaryDirectory(prefix="mkproj.") as scratch:
        base, seed_map = seeds(binary, scratch)
        stamp = stamp_of(base, seed_map, n)
        stamp_file = os.path.join(out, ".stamp")
        if reuse and os.path.exists(stamp_file):
            with open(stamp_file) as fh:
                if fh.read() == stamp:
                    return "reused"
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(out)
        proj = os.path.join(out, PROJECT)
        shutil.copytree(base, proj, symlinks=True)
        with open(os.path.join(proj, "lambdas.toml")) as fh:
            toml = [fh.read()]
        for i in range(1, n + 1):
            kind, name = handler(i)
            seed = seed_map[kind]
            for path, mode in seed.shared:
                p = os.path.join(proj, path)
                if not os.path.isdir(p):
                    os.mkdir(p)
                    os.chmod(p, mode & 0o7777)
            items, record = seed.render(name)
            for path, mode, data in items + [record]:
                p = os.path.join(proj, path)
                if data is None:
                    os.mkdir(p)
                else:
                    with open(p, "wb") as fh:
                        fh.write(data)
                os.chmod(p, mode & 0o7777)
            toml.append(seed.entry_for(name))
        with open(os.path.join(proj, "lambdas.toml"), "w") as fh:
            fh.write("".join(toml))
        with open(stamp_file, "w") as fh:
            fh.write(stamp)
        return "built"


# Each new project's owner token is random: two projects never share it.
PER_PROJECT = {".lambda-scaffold-owner"}


def diff_trees(a, b):
    ta, tb = tree(a), tree(b)
    bad = sorted(p for p in set(ta) | set(tb) if ta.get(p) != tb.get(p) and p not in PER_PROJECT)
    return bad


def verify(binary, n):
    """Generator output for N against base + N real add-handler calls."""
    with tempfile.TemporaryDirectory(prefix="mkproj-verify.") as tmp:
        gen = os.path.join(tmp, "gen")
        build(binary, n, gen, False)
        os.remove(os.path.join(gen, ".stamp"))
        real = new_project(binary, os.path.join(tmp, "real"))
        for i in range(1, n + 1):
            kind, name = handler(i)
            run([binary, "add-handler", kind, name], real)
        bad = diff_trees(os.path.join(gen, PROJECT), real)
        if bad:
            print(f"make_project.py: N={n} differs from {n} real add-handler calls: {bad[:10]}",
                  file=sys.stderr)
            return 1
        files = sum(1 for _, (_, d) in tree(real).items() if d is not None)
        print(f"make_project.py: N={n} identical to {n} real add-handler calls "
              f"({files} files, contents and modes)")
        return 0


def verify_step(binary, n):
    """Generator output for N, plus one real add-handler call, against the generator's N + 1."""
    with tempfile.TemporaryDirectory(prefix="mkproj-step.") as tmp:
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        build(binary, n, a, False)
        build(binary, n + 1, b, False)
        kind, name = handler(n + 1)
        run([binary, "add-handler", kind, name], os.path.join(a, PROJECT))
        bad = diff_trees(os.path.join(a, PROJECT), os.path.join(b, PROJECT))
        if bad:
            print(f"make_project.py: N={n} plus a real add-handler {kind} {name} differs "
                  f"from N={n + 1}: {bad[:10]}", file=sys.stderr)
            return 1
        print(f"make_project.py: N={n} plus a real `add-handler {kind} {name}` "
              f"is identical to N={n + 1}")
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--n", type=int, default=3)
    ap.add_argument("--out")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--verify-step", action="store_true")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    if a.verify:
        return verify(binary, a.n)
    if a.verify_step:
        return verify_step(binary, a.n)
    if not a.out:
        ap.error("--out is required unless --verify")
    print(build(binary, a.n, os.path.abspath(a.out), a.reuse))
    return 0


if __name__ == "__main__":
    sys.exit(main())
