//! Incremental and parallel builds, run for real: a zip whose inputs did not
//! change is kept (its stamp `target/NAME.zip.inputs`), each kind of input
//! change rebuilds exactly the zips it reaches, the installed dependencies are
//! reused per lock, and incremental, parallel and clean builds give the same
//! bytes.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::build::*;
use common::*;

/// A log-centric project of four Lambdas with one locked dependency, built
/// from the returned wheelhouse for the host's python (so the zips hold
/// bytecode, the default).
fn project_with_four_lambdas() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, root) = project("svc", &["--python", &host_python_version()]);
    ok(&root, &["add-handler", "producers", "orders"]);
    ok(&root, &["add-handler", "consumers", "billing"]);
    let wheels = dir.path().join("wheels");
    fs::create_dir(&wheels).unwrap();
    make_wheel(
        &wheels,
        &["lsdemo_dep", "1.0", "py3-none-any", "--init", "X = 1\n"],
    );
    make_wheel(
        &wheels,
        &["lsdemo_dep", "2.0", "py3-none-any", "--init", "X = 2\n"],
    );
    fs::write(root.join("requirements.txt"), "lsdemo_dep==1.0\n").unwrap();
    lock_from(&root, &wheels);
    (dir, root, wheels)
}

/// `./build.sh --all --local ARGS`: the names of the zips it rebuilt, and
/// whether pip ran.
fn build_all(root: &Path, wheels: &Path, args: &[&str]) -> (Vec<String>, bool) {
    let extra = format!("--no-index --find-links {}", wheels.display());
    let mut all = vec!["--all", "--local"];
    all.extend_from_slice(args);
    let out = build_sh(root, &all, &[("PIP_EXTRA_ARGS", &extra)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rebuilt = stdout(&out)
        .lines()
        .filter(|line| !line.ends_with("(unchanged)"))
        .map(|line| {
            let zip = line.split_whitespace().next().unwrap();
            zip.trim_start_matches("target/")
                .trim_end_matches(".zip")
                .to_string()
        })
        .collect();
    (rebuilt, stderr(&out).contains("-m pip install"))
}

/// Every zip of `target/`, by name, with its bytes.
fn zips(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(root.join("target"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// The zips a clean build (`target/` removed first) writes.
fn clean_build(root: &Path, wheels: &Path, args: &[&str]) -> BTreeMap<String, Vec<u8>> {
    fs::remove_dir_all(root.join("target")).ok();
    let (rebuilt, pip) = build_all(root, wheels, args);
    assert_eq!(rebuilt.len(), 4, "{rebuilt:?}");
    assert!(pip, "a clean build installs the dependencies");
    zips(root)
}

const ALL: [&str; 4] = ["billing", "log_event", "log_sink", "orders"];

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

fn append(path: &Path, text: &str) {
    let mut contents = fs::read_to_string(path).unwrap();
    contents.push_str(text);
    fs::write(path, contents).unwrap();
}

#[test]
fn incremental_parallel_and_clean_builds_give_the_same_bytes() {
    let (_dir, root, wheels) = project_with_four_lambdas();
    let serial = clean_build(&root, &wheels, &["--jobs", "1"]);
    let parallel = clean_build(&root, &wheels, &["--jobs", "4"]);
    assert_eq!(serial.len(), 4);
    assert!(
        serial == parallel,
        "a parallel build differs from a serial one"
    );
    // Nothing changed: nothing is rebuilt, pip does not run, the bytes stay.
    let (rebuilt, pip) = build_all(&root, &wheels, &[]);
    assert_eq!(rebuilt, Vec::<String>::new());
    assert!(!pip);
    assert!(zips(&root) == serial);
    // A change rebuilds from the cached dependencies the same bytes a clean
    // build writes.
    append(&root.join("utils/__init__.py"), "\nVERSION = 2\n");
    let (rebuilt, pip) = build_all(&root, &wheels, &[]);
    assert_eq!(sorted(rebuilt), ALL);
    assert!(!pip, "the dependencies of an unchanged lock are reused");
    let incremental = zips(&root);
    assert!(
        incremental == clean_build(&root, &wheels, &[]),
        "incremental differs from clean"
    );
}

#[test]
fn each_kind_of_input_change_rebuilds_exactly_the_zips_it_reaches() {
    let (_dir, root, wheels) = project_with_four_lambdas();
    build_all(&root, &wheels, &[]);
    let rebuilt = |root: &Path| sorted(build_all(root, &wheels, &[]).0);

    // A new timestamp is no change.
    let module = root.join("producers/orders/producers.py");
    touch_later(&module);
    assert_eq!(rebuilt(&root), Vec::<String>::new(), "timestamp");
    // One handler's code: its zip only.
    append(&module, "\n# changed\n");
    assert_eq!(rebuilt(&root), ["orders"], "handler code");
    // A new file in a handler's folder: its zip only.
    fs::write(root.join("consumers/billing/rates.py"), "RATE = 2\n").unwrap();
    assert_eq!(rebuilt(&root), ["billing"], "new file");
    // A file's mode is part of the zip.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(
        root.join("consumers/billing/rates.py"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    assert_eq!(rebuilt(&root), ["billing"], "mode");
    // Shared code: every zip.
    fs::write(root.join("utils/money.py"), "CENTS = 100\n").unwrap();
    assert_eq!(rebuilt(&root), ALL, "utils");
    // The lock: every zip, with pip run again.
    fs::write(root.join("requirements.txt"), "lsdemo_dep==2.0\n").unwrap();
    lock_from(&root, &wheels);
    let (names, pip) = build_all(&root, &wheels, &[]);
    assert_eq!(sorted(names), ALL, "lock");
    assert!(pip, "a new lock installs its dependencies");
    // The packager: every zip.
    append(&root.join("tools/package_lambda.py"), "\n# changed\n");
    assert_eq!(rebuilt(&root), ALL, "packager");
    // A zip changed or removed in target/: that zip.
    fs::write(root.join("target/log_sink.zip"), b"not a zip").unwrap();
    fs::remove_file(root.join("target/log_event.zip")).unwrap();
    assert_eq!(rebuilt(&root), ["log_event", "log_sink"], "zips in target/");
    assert_eq!(rebuilt(&root), Vec::<String>::new());
    // A zip changed in place at its size (so, after its stamp): that zip.
    let zip = root.join("target/orders.zip");
    let mut bytes = fs::read(&zip).unwrap();
    bytes[40] ^= 0x55;
    fs::write(&zip, &bytes).unwrap();
    touch_later(&zip);
    assert_eq!(rebuilt(&root), ["orders"], "a zip changed at its size");
    assert_ne!(fs::read(&zip).unwrap(), bytes);
}

#[test]
fn a_changed_python_or_arch_rebuilds_every_zip() {
    let (_dir, root) = project("svc", &[]);
    let wheels = root.join("no-wheels");
    build_all(&root, &wheels, &[]);
    for (from, to) in [
        ("python = \"3.13\"", "python = \"3.12\""),
        ("arch = \"x86_64\"", "arch = \"arm64\""),
    ] {
        let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
        fs::write(root.join("lambdas.toml"), manifest.replace(from, to)).unwrap();
        // The empty requirements' lock follows the runtime.
        ok(&root, &["check", "--fix"]);
        let (names, _) = build_all(&root, &wheels, &[]);
        assert_eq!(sorted(names), ["log_event", "log_sink"], "{to}");
    }
}

#[test]
fn jobs_must_be_a_number() {
    let (_dir, root) = project("svc", &[]);
    let before = snapshot(&root);
    for jobs in ["0", "many", "-1"] {
        let out = build_sh(&root, &["--all", "--local", "--jobs", jobs], &[]);
        assert_eq!(out.status.code(), Some(2), "{jobs}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error: --jobs takes a number"),
            "{}",
            stderr(&out)
        );
    }
    let out = build_sh(&root, &["--all", "--local", "--jobs"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(snapshot(&root), before);
}

/// The zip of compressed dependencies the build keeps in `target/.cache`.
fn cached_dependencies(root: &Path) -> PathBuf {
    let cache = root.join("target/.cache/dependencies");
    let mut zips: Vec<PathBuf> = fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .collect();
    assert_eq!(zips.len(), 1, "{zips:?}");
    zips.pop().unwrap()
}

/// Writes `data` over the cached zip `path` and a stamp that vouches for it,
/// as someone who knows the stamp's format would.
fn forge_cache(path: &Path, data: &[u8]) {
    use sha2::{Digest, Sha256};
    let stamp = path.with_extension("zip.inputs");
    let text = fs::read_to_string(&stamp).unwrap();
    let fields: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fields.len(), 4, "{text}");
    let sha: String = Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    fs::write(path, data).unwrap();
    let forged = format!("{} {} {sha} {}\n", fields[0], data.len(), fields[3]);
    fs::write(&stamp, forged).unwrap();
}

#[test]
fn a_changed_dependency_cache_is_named_and_built_again_never_shipped() {
    let (_dir, root, wheels) = project_with_four_lambdas();
    let clean = clean_build(&root, &wheels, &[]);
    let cache = cached_dependencies(&root);
    let good = fs::read(&cache).unwrap();
    // The last byte of the first member's compressed data: the local header
    // (30 bytes) and the name come first.
    let name_length = usize::from(u16::from_le_bytes([good[26], good[27]]));
    let stored = u32::from_le_bytes(good[18..22].try_into().unwrap()) as usize;
    let in_member = 30 + name_length + stored - 1;
    let flipped = |mut data: Vec<u8>| {
        data[in_member] ^= 0x55;
        data
    };
    let cases = [
        "a byte changed",
        "a byte changed, the stamp forged to match",
        "the stamp removed",
    ];
    for (number, case) in cases.into_iter().enumerate() {
        match number {
            0 => fs::write(&cache, flipped(good.clone())).unwrap(),
            1 => forge_cache(&cache, &flipped(good.clone())),
            _ => fs::remove_file(cache.with_extension("zip.inputs")).unwrap(),
        }
        // One zip to rebuild, from the cache.
        fs::remove_file(root.join("target/orders.zip")).unwrap();
        let extra = format!("--no-index --find-links {}", wheels.display());
        let out = build_sh(&root, &["--all", "--local"], &[("PIP_EXTRA_ARGS", &extra)]);
        assert!(out.status.success(), "{case}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "warning: the cached dependencies `{}` are not what the build wrote",
                cache.display()
            )),
            "{case}: {err}"
        );
        assert!(err.contains("-m pip install"), "{case}: installed again");
        assert!(
            zips(&root) == clean,
            "{case}: a zip differs from a clean build"
        );
        assert_eq!(
            fs::read(&cache).unwrap(),
            good,
            "{case}: the cache is rebuilt"
        );
    }
}
