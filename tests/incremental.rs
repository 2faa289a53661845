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
/// as someone who knows the stamp's format would: its size unzipped is
/// `unzipped`, or the one the stamp said.
fn forge_cache(path: &Path, data: &[u8], unzipped: Option<u64>) {
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
    let unzipped = unzipped.map_or(fields[3].to_string(), |size| size.to_string());
    let forged = format!("{} {} {sha} {unzipped}\n", fields[0], data.len());
    fs::write(&stamp, forged).unwrap();
}

/// A project's zips and cached dependencies as a clean build wrote them, for
/// the tests that change the cache.
struct CleanBuild {
    root: PathBuf,
    wheels: PathBuf,
    zips: BTreeMap<String, Vec<u8>>,
    cache: PathBuf,
    cache_bytes: Vec<u8>,
}

impl CleanBuild {
    fn new(root: &Path, wheels: &Path) -> Self {
        let zips = clean_build(root, wheels, &[]);
        let cache = cached_dependencies(root);
        let cache_bytes = fs::read(&cache).unwrap();
        let (root, wheels) = (root.to_path_buf(), wheels.to_path_buf());
        CleanBuild {
            root,
            wheels,
            zips,
            cache,
            cache_bytes,
        }
    }

    /// Builds one zip again (`orders`), from the cache as `case` left it,
    /// with `envs` and an address space of `memory_kib` (see
    /// [`build_sh_within`]): the build names the cache, `reason` following,
    /// installs the dependencies again and writes the bytes of a clean build,
    /// the cache's included.
    fn assert_built_again(
        &self,
        case: &str,
        memory_kib: Option<u64>,
        envs: &[(&str, &str)],
        reason: &str,
    ) {
        fs::remove_file(self.root.join("target/orders.zip")).unwrap();
        let extra = format!("--no-index --find-links {}", self.wheels.display());
        let mut envs = envs.to_vec();
        envs.push(("PIP_EXTRA_ARGS", &extra));
        let out = build_sh_within(&self.root, memory_kib, &["--all", "--local"], &envs);
        let err = stderr(&out);
        assert!(out.status.success(), "{case}: {err}");
        let warning = format!(
            "warning: the cached dependencies `{}` are not what the build wrote{reason}",
            self.cache.display()
        );
        assert!(err.contains(&warning), "{case}: {err}");
        assert!(err.contains("-m pip install"), "{case}: installed again");
        assert!(
            zips(&self.root) == self.zips,
            "{case}: a zip differs from a clean build"
        );
        assert_eq!(
            fs::read(&self.cache).unwrap(),
            self.cache_bytes,
            "{case}: the cache is rebuilt"
        );
    }
}

#[test]
fn a_changed_dependency_cache_is_named_and_built_again_never_shipped() {
    let (_dir, root, wheels) = project_with_four_lambdas();
    let clean = CleanBuild::new(&root, &wheels);
    let (cache, good) = (&clean.cache, &clean.cache_bytes);
    // The last byte of the first member's compressed data: the local header
    // (30 bytes) and the name come first.
    let name_length = usize::from(u16::from_le_bytes([good[26], good[27]]));
    let stored = u32::from_le_bytes(good[18..22].try_into().unwrap()) as usize;
    let in_member = 30 + name_length + stored - 1;
    let flipped = || {
        let mut data = good.clone();
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
            0 => fs::write(cache, flipped()).unwrap(),
            1 => forge_cache(cache, &flipped(), None),
            _ => fs::remove_file(cache.with_extension("zip.inputs")).unwrap(),
        }
        clean.assert_built_again(case, None, &[], "");
    }
}

/// A cached zip of dependencies (the build's own format, its stamp forged to
/// match) whose one member lies: it says it unzips past Lambda's limit (which
/// the build lets the tests lower, here to 1 MiB), or its deflated data
/// inflates to 4 GiB where it says 1,000 bytes (a deflate bomb). The build
/// names it and installs again, inflating at most the size a member states
/// and never one over the limit: under a 1 GiB address space, which the bomb
/// would exhaust.
#[test]
fn a_dependency_cache_that_would_inflate_past_lambdas_limit_is_built_again_unread() {
    let (dir, root, wheels) = project_with_four_lambdas();
    let clean = CleanBuild::new(&root, &wheels);
    let limit: u64 = 1024 * 1024;
    let crafted = dir.path().join("crafted.zip");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/crafted_cache.py");
    let cases: [(&str, u64, u64); 2] = [
        (
            "a member said to unzip past the limit",
            2 * limit,
            2 * limit,
        ),
        ("a member inflating past its size", 1000, 4 << 30),
    ];
    for (case, declared, inflated) in cases {
        let out = std::process::Command::new(python())
            .arg(&script)
            .arg(&root)
            .arg(&crafted)
            .arg(declared.to_string())
            .arg(inflated.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "{case}: {}", stderr(&out));
        forge_cache(&clean.cache, &fs::read(&crafted).unwrap(), Some(declared));
        clean.assert_built_again(
            case,
            Some(1024 * 1024),
            &[("LAMBDA_SCAFFOLD_TEST_MAX_UNZIPPED", &limit.to_string())],
            " (`lsdemo_dep/padding.bin` ",
        );
    }
}
