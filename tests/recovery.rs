//! Recovery of staged changes: the next run finishes what a killed run of
//! this tool left in this project folder, and refuses every other staging
//! folder (forged, tampered, copied from another checkout, or naming paths
//! outside the project or through a symbolic link), touching nothing inside
//! the project or outside it.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lambda_scaffold::apply::journal::{self, RelPath};
use lambda_scaffold::apply::owner::{OWNER_FILE, Owner};
use lambda_scaffold::apply::{Change, JOURNAL, ROLLBACK, STAGING_PREFIX};
use proptest::prelude::*;

use common::*;

/// A file staged beside a journal: its name there, and its bytes.
type Staged<'a> = (&'a str, &'a [u8]);

/// A project `svc` with an owner token, and beside it a folder `outside`
/// holding a file that no run in `svc` may ever touch.
struct Setup {
    dir: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let (dir, root) = project("svc", &["--bare"]);
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("precious.txt"), "keep me\n").unwrap();
        // A new project has its owner token from the start.
        assert!(root.join(OWNER_FILE).is_file());
        ok(&root, &["add-handler", "producers", "seed"]);
        Self { dir, root, outside }
    }

    /// The temp folder holding both the project and `outside`.
    fn all(&self) -> &Path {
        self.dir.path()
    }

    /// A staging folder sealed with the project's own token, as only a run
    /// of this tool in this folder (or someone who read the token) can make:
    /// the journal `json` and the staged files `staged`.
    fn sealed(&self, json: &[u8], staged: &[Staged]) -> PathBuf {
        self.sealed_as(JOURNAL, json, staged)
    }

    /// Like [`Setup::sealed`], the journal named `list` (a rollback list).
    fn sealed_as(&self, list: &str, json: &[u8], staged: &[Staged]) -> PathBuf {
        let owner = Owner::load(&self.root).unwrap().expect("owner token");
        let name = owner.staging_name();
        let staging = self.root.join(&name);
        fs::create_dir(&staging).unwrap();
        for (file, bytes) in staged {
            fs::write(staging.join(file), bytes).unwrap();
        }
        fs::write(staging.join(list), owner.seal(OsStr::new(&name), json)).unwrap();
        staging
    }

    /// Runs a write command that must refuse with `message`, leaving the
    /// project and `outside` byte-identical, then removes `staging` as the
    /// hint says.
    fn refuses(&self, staging: &Path, message: &str) -> String {
        let err = assert_staging_refused(
            &self.root,
            self.all(),
            &["add-handler", "producers", "probe"],
            staging,
            message,
        );
        assert_eq!(
            fs::read(self.outside.join("precious.txt")).unwrap(),
            b"keep me\n"
        );
        fs::remove_dir_all(staging).unwrap();
        err
    }
}

fn journal_of(changes: &str) -> Vec<u8> {
    format!(r#"{{"version":1,"changes":[{changes}]}}"#).into_bytes()
}

#[test]
fn a_sealed_journal_naming_paths_outside_the_project_is_refused_and_nothing_is_touched() {
    let setup = Setup::new();
    let outside = setup.outside.display().to_string();
    let hostile = [
        r#"{"step":"remove","path":"../outside"}"#.to_string(),
        r#"{"step":"remove","path":"producers/../../outside"}"#.to_string(),
        format!(r#"{{"step":"remove","path":"{outside}"}}"#),
        r#"{"step":"create","path":"../outside/precious.txt"}"#.to_string(),
        format!(r#"{{"step":"make-dir","path":"{outside}/made"}}"#),
        r#"{"step":"append","path":"../outside/precious.txt","expected_len":8}"#.to_string(),
        r#"{"step":"make-executable","path":"./../outside/precious.txt","mode_before":420}"#
            .to_string(),
        // `../outside` spelled as bytes.
        r#"{"step":"remove","path":[46,46,47,111,117,116,115,105,100,101]}"#.to_string(),
    ];
    for step in hostile {
        // A harmless first step: a refused journal runs none of its steps.
        let changes = format!(r#"{{"step":"remove","path":"producers/seed"}},{step}"#);
        let staging = setup.sealed(&journal_of(&changes), &[("1", b"pwned\n")]);
        setup.refuses(&staging, "is not a plain relative path");
    }
    // With the folders gone, as the hint says, commands work again.
    ok(&setup.root, &["add-handler", "producers", "probe"]);
    assert!(setup.root.join("producers/seed/producers.py").is_file());
}

#[test]
fn a_sealed_journal_leading_through_a_symbolic_link_is_refused() {
    let setup = Setup::new();
    symlink(&setup.outside, setup.root.join("linked")).unwrap();
    symlink(
        setup.outside.join("precious.txt"),
        setup.root.join("notes.txt"),
    )
    .unwrap();
    let cases: [(&str, &[Staged], &str); 5] = [
        (
            r#"{"step":"remove","path":"linked/precious.txt"}"#,
            &[],
            "`linked` is a symbolic link",
        ),
        (
            r#"{"step":"create","path":"linked/new.txt"}"#,
            &[("0", b"pwned\n")],
            "`linked` is a symbolic link",
        ),
        (
            r#"{"step":"replace","path":"linked/precious.txt"}"#,
            &[("0", b"pwned\n")],
            "`linked` is a symbolic link",
        ),
        (
            r#"{"step":"append","path":"notes.txt","expected_len":8}"#,
            &[("0", b"pwned\n")],
            "it is not a regular file",
        ),
        (
            r#"{"step":"make-executable","path":"notes.txt","mode_before":420}"#,
            &[],
            "it is not a regular file",
        ),
    ];
    for (step, staged, message) in cases {
        let staging = setup.sealed(&journal_of(step), staged);
        setup.refuses(&staging, message);
    }
    // What a change would move in or append is a link to a file outside.
    let len = fs::metadata(setup.root.join("lambdas.toml")).unwrap().len();
    for step in [
        format!(r#"{{"step":"append","path":"lambdas.toml","expected_len":{len}}}"#),
        r#"{"step":"create","path":"utils/stolen.txt"}"#.to_string(),
    ] {
        let staging = setup.sealed(&journal_of(&step), &[]);
        symlink(setup.outside.join("precious.txt"), staging.join("0")).unwrap();
        setup.refuses(&staging, "what was staged for it is not a regular file");
    }
}

#[test]
fn forged_tampered_and_foreign_staging_folders_are_refused() {
    let setup = Setup::new();
    let legit = journal_of(r#"{"step":"remove","path":"producers/seed"}"#);

    // Tampered: one byte of a sealed journal changed.
    let staging = setup.sealed(&legit, &[]);
    let mut file = fs::read(staging.join(JOURNAL)).unwrap();
    let last = file.len() - 5;
    file[last] = b'x';
    fs::write(staging.join(JOURNAL), file).unwrap();
    setup.refuses(&staging, "holds a journal that does not match its checksum");

    // Forged: the old journal format, or garbage, sealed or not.
    let staging = setup.sealed(b"remove\t../outside\n", &[]);
    setup.refuses(&staging, "holds a journal that cannot be read");
    let staging = setup.sealed(&legit, &[]);
    fs::write(staging.join(JOURNAL), b"remove\t../outside\n").unwrap();
    setup.refuses(&staging, "holds a journal that does not match its checksum");

    // A name this project's owner never made, with a journal copied from
    // one it did.
    let sealed = setup.sealed(&legit, &[]);
    let staging = setup.root.join(format!("{STAGING_PREFIX}999999-1"));
    fs::rename(&sealed, &staging).unwrap();
    setup.refuses(
        &staging,
        "was not made by lambda-scaffold in this project folder",
    );

    // A file, and a link out of the project, named like a staging folder.
    let staging = setup.root.join(format!("{STAGING_PREFIX}file"));
    fs::write(&staging, "x").unwrap();
    assert_refused(
        &setup.root,
        setup.all(),
        &["add-handler", "producers", "probe"],
        "was not made by lambda-scaffold",
    );
    fs::remove_file(&staging).unwrap();
    let staging = setup.root.join(format!("{STAGING_PREFIX}1-2"));
    symlink(&setup.outside, &staging).unwrap();
    assert_refused(
        &setup.root,
        setup.all(),
        &["remove-handler", "producers", "seed"],
        "was not made by lambda-scaffold",
    );
    fs::remove_file(&staging).unwrap();
    ok(&setup.root, &["add-handler", "producers", "probe"]);
}

/// Runs `args` in `root` slowly enough to be stopped between its journal
/// and its first visible step, and kills it there: a genuine leftover.
fn interrupt_after_journal(root: &Path, args: &[&str]) -> PathBuf {
    let mut child = scaffold(root)
        .args(args)
        .env("LAMBDA_SCAFFOLD_TEST_STEP_DELAY_US", "2000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let staging = loop {
        let journalled = staging_dirs(root)
            .into_iter()
            .map(|name| root.join(name))
            .find(|dir| dir.join(JOURNAL).is_file());
        if let Some(staging) = journalled {
            break staging;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no journal");
        std::thread::sleep(Duration::from_millis(2));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    staging
}

#[test]
fn a_leftover_staging_folder_is_finished_only_in_the_folder_it_was_made_in() {
    let setup = Setup::new();
    let staging = interrupt_after_journal(&setup.root, &["add-handler", "producers", "victim"]);
    let name = staging.file_name().unwrap();

    // A copy of the whole project, token included (a checkout where both
    // were committed, an archive, a backup): refused there.
    let copy = setup.all().join("copy");
    copy_tree(&setup.root, &copy);
    assert_staging_refused(
        &copy,
        setup.all(),
        &["add-handler", "producers", "probe"],
        &copy.join(name),
        "was not made by lambda-scaffold in this project folder",
    );

    // Committed (forced past the .gitignore) and cloned by a colleague.
    let git = |cwd: &Path, args: &[&str]| {
        let out = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(cwd)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    };
    git(&setup.root, &["init", "-q"]);
    git(&setup.root, &["add", "-A"]);
    git(&setup.root, &["add", "-f", &name.to_string_lossy()]);
    git(&setup.root, &["commit", "-qm", "oops"]);
    let clone = setup.all().join("clone");
    git(setup.all(), &["clone", "-q", "svc", "clone"]);
    assert!(clone.join(name).join(JOURNAL).is_file());
    assert_staging_refused(
        &clone,
        setup.all(),
        &["add-handler", "producers", "probe"],
        &clone.join(name),
        "was not made by lambda-scaffold in this project folder",
    );
    fs::remove_dir_all(setup.root.join(".git")).unwrap();

    // The folder alone, in another project with its own token.
    let (_other_dir, other) = project("other", &["--bare"]);
    copy_tree(&staging, &other.join(name));
    assert_refused(
        &other,
        &other,
        &["add-handler", "producers", "probe"],
        "was not made by lambda-scaffold in this project folder",
    );

    // A project without a token (made by an older version) proves nothing.
    let (_fresh_dir, fresh) = project("fresh", &["--bare"]);
    fs::remove_file(fresh.join(OWNER_FILE)).unwrap();
    copy_tree(&staging, &fresh.join(name));
    assert_refused(
        &fresh,
        &fresh,
        &["check", "--fix"],
        "was not made by lambda-scaffold in this project folder",
    );

    // Where it was made, the next run finishes the change.
    let out = ok(&setup.root, &["add-handler", "producers", "probe"]);
    assert!(
        stderr(&out).contains("finished 1 change(s) that an interrupted run had started"),
        "{}",
        stderr(&out)
    );
    assert!(staging_dirs(&setup.root).is_empty());
    assert!(setup.root.join("producers/victim/producers.py").is_file());
    ok(&setup.root, &["check"]);
}

#[test]
fn a_change_that_cannot_be_finished_is_refused_before_any_step_with_a_way_out() {
    let setup = Setup::new();
    let staging = interrupt_after_journal(&setup.root, &["add-handler", "producers", "victim"]);
    // The manifest changed after the journal: its append cannot be finished.
    let manifest = setup.root.join("lambdas.toml");
    let mut text = fs::read(&manifest).unwrap();
    text.extend_from_slice(b"# edited by hand\n");
    fs::write(&manifest, text).unwrap();
    let err = assert_staging_refused(
        &setup.root,
        setup.all(),
        &["add-handler", "producers", "probe"],
        &staging,
        "cannot finish the change an interrupted run staged in",
    );
    assert!(
        err.contains("`lambdas.toml`: it changed since the append was staged"),
        "{err}"
    );
    assert!(!setup.root.join("producers/victim").exists());
    fs::remove_dir_all(&staging).unwrap();
    ok(&setup.root, &["add-handler", "producers", "probe"]);
    ok(&setup.root, &["check"]);
}

#[test]
fn a_journal_replays_names_with_newlines_tabs_and_bytes_that_are_not_utf8() {
    let setup = Setup::new();
    let dirs: [&[u8]; 3] = [b"utils/a\nb", b"utils/tab\there", b"utils/\xff\xfe-bytes"];
    // A user's file whose name is a prefix of a staged one's: never hit.
    fs::write(setup.root.join("utils/a"), "mine\n").unwrap();
    let mut changes = Vec::new();
    let mut staged: Vec<(String, Vec<u8>)> = Vec::new();
    for dir in dirs {
        changes.push(Change::MakeDir {
            path: RelPath::from_bytes(dir).unwrap(),
        });
        let file = [dir, b"/__init__.py"].concat();
        staged.push((changes.len().to_string(), file.clone()));
        changes.push(Change::Create {
            path: RelPath::from_bytes(&file).unwrap(),
            contents: Vec::new(),
            executable: false,
        });
    }
    let staged: Vec<Staged> = staged
        .iter()
        .map(|(name, contents)| (name.as_str(), contents.as_slice()))
        .collect();
    setup.sealed(&journal::encode(&changes), &staged);
    let out = ok(&setup.root, &["add-handler", "producers", "probe"]);
    assert!(
        stderr(&out).contains("finished 1 change(s)"),
        "{}",
        stderr(&out)
    );
    for dir in dirs {
        let file = setup
            .root
            .join(OsStr::from_bytes(&[dir, b"/__init__.py"].concat()));
        // Each staged file holds its own path: it went where it belongs.
        assert_eq!(
            fs::read(&file).unwrap(),
            file.strip_prefix(&setup.root)
                .unwrap()
                .as_os_str()
                .as_bytes()
        );
    }
    assert_eq!(fs::read(setup.root.join("utils/a")).unwrap(), b"mine\n");
    assert!(staging_dirs(&setup.root).is_empty());
}

#[test]
fn a_run_killed_while_rolling_back_a_failed_change_is_rolled_back_by_the_next_one() {
    use std::os::unix::fs::PermissionsExt;
    let setup = Setup::new();
    let root = &setup.root;
    let before = snapshot(root);
    let path = |p: &str| RelPath::from_bytes(p.as_bytes()).unwrap();
    let manifest = root.join("lambdas.toml");
    let script = root.join("tools/package_lambda.py");
    let mode_before = fs::metadata(&script).unwrap().permissions().mode() & 0o7777;
    let changes = [
        Change::MakeDir {
            path: path("utils/new"),
        },
        Change::Remove {
            path: path("producers/seed"),
        },
        Change::Create {
            path: path("utils/new/x.py"),
            contents: Vec::new(),
            executable: false,
        },
        Change::Replace {
            path: path("README.md"),
            contents: Vec::new(),
            executable: false,
        },
        Change::Append {
            path: path("lambdas.toml"),
            expected_len: fs::metadata(&manifest).unwrap().len(),
            bytes: Vec::new(),
        },
        Change::MakeExecutable {
            path: path("tools/package_lambda.py"),
            mode_before,
        },
    ];
    let staged: [Staged; 3] = [("2", b"X = 1\n"), ("3", b"# new\n"), ("4", b"# added\n")];
    let staging = setup.sealed_as(ROLLBACK, &journal::encode(&changes), &staged);
    // Every change placed, as by a run whose next step then failed...
    fs::create_dir(root.join("utils/new")).unwrap();
    fs::rename(root.join("producers/seed"), staging.join("1.orig")).unwrap();
    fs::rename(staging.join("2"), root.join("utils/new/x.py")).unwrap();
    fs::rename(root.join("README.md"), staging.join("3.orig")).unwrap();
    fs::rename(staging.join("3"), root.join("README.md")).unwrap();
    let mut text = fs::read(&manifest).unwrap();
    text.extend_from_slice(b"# added\n");
    fs::write(&manifest, text).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    // ...and killed half way through rolling them back, last first.
    fs::set_permissions(&script, fs::Permissions::from_mode(mode_before)).unwrap();
    fs::write(&manifest, &before[Path::new("lambdas.toml")].1).unwrap();
    fs::rename(staging.join("3.orig"), root.join("README.md")).unwrap();

    let probe = run(root, &["remove-handler", "producers", "not_there"]);
    assert_eq!(probe.status.code(), Some(1), "{}", stderr(&probe));
    assert!(
        stderr(&probe).contains("discarded 1 change(s)"),
        "{}",
        stderr(&probe)
    );
    assert_eq!(snapshot(root), before, "the tree is as before the change");
}

#[test]
fn new_project_never_replays_a_staging_folder_it_finds() {
    let setup = Setup::new();
    let journal = journal_of(r#"{"step":"remove","path":"../outside"}"#);
    let staging = setup.sealed(&journal, &[]);
    let before = snapshot(setup.all());
    // Inside the project, and in a folder holding a copy of it.
    let out = ok(&setup.root, &["new-project", "inner", "--no-input"]);
    copy_tree(&staging, &setup.all().join(staging.file_name().unwrap()));
    ok(setup.all(), &["new-project", "beside", "--no-input"]);
    let mut after = snapshot(setup.all());
    after.retain(|path, _| {
        !path.starts_with("svc/inner")
            && !path.starts_with("beside")
            && !path.starts_with(staging.file_name().unwrap())
    });
    assert_eq!(after, before, "a staging folder was replayed or removed");
    assert!(
        stderr(&out).contains("was not made by lambda-scaffold here; it is left as it is"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("hint: look inside, then delete it"));
}

#[test]
fn the_generated_gitignore_keeps_staging_folders_and_the_owner_token_out_of_git() {
    let setup = Setup::new();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&setup.root)
            .output()
            .expect("git runs")
    };
    assert!(git(&["init", "-q"]).status.success());
    let staging = format!("{STAGING_PREFIX}1-2-abc/journal");
    for path in [staging.as_str(), OWNER_FILE, "lambdas.toml"] {
        let ignored = git(&["check-ignore", "-q", "--no-index", path])
            .status
            .success();
        assert_eq!(ignored, path != "lambdas.toml", "{path}");
    }
}

/// One path segment: any bytes but `/` and NUL, and not `.` or `..`; often
/// a newline, a tab or bytes that are not UTF-8.
fn segment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 1..12),
        Just(b"a\nb".to_vec()),
        Just(b"tab\there".to_vec()),
        Just(vec![0xff, 0xfe, b'x']),
        "[a-z_]{1,8}".prop_map(String::into_bytes),
    ]
    .prop_map(|mut bytes| {
        bytes.retain(|b| *b != b'/' && *b != 0);
        if matches!(bytes.as_slice(), b"" | b"." | b"..") {
            bytes.push(b'_');
        }
        bytes
    })
}

fn plain_path() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(segment(), 1..5).prop_map(|segments| segments.join(&b'/'))
}

/// Byte paths that are not plain relative: a plain path spoiled by `..`,
/// `.`, an empty segment or NUL at a random place, or made absolute.
fn hostile_path() -> impl Strategy<Value = Vec<u8>> {
    let spoiler = prop_oneof![
        Just(b"..".to_vec()),
        Just(b".".to_vec()),
        Just(Vec::new()),
        Just(b"a\0b".to_vec()),
    ];
    (
        proptest::collection::vec(segment(), 0..4),
        spoiler,
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(mut segments, spoiler, at, absolute)| {
            let at = at.index(segments.len() + 1);
            segments.insert(at, spoiler);
            let mut path = segments.join(&b'/');
            if absolute {
                path.insert(0, b'/');
            }
            path
        })
}

/// Every kind of step, with the fields it has besides its path.
const STEPS: [(&str, &str); 6] = [
    ("make-dir", ""),
    ("create", ""),
    ("replace", ""),
    ("append", r#","expected_len":8"#),
    ("remove", ""),
    ("make-executable", r#","mode_before":420"#),
];

/// A journal of one step on `path`, the path spelled as bytes.
fn journal_of_step((step, fields): (&str, &str), path: &[u8]) -> Vec<u8> {
    let spelled = serde_json::to_string(path).unwrap();
    journal_of(&format!(r#"{{"step":"{step}","path":{spelled}{fields}}}"#))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn every_path_round_trips_through_the_journal(
        paths in proptest::collection::vec(plain_path(), 1..4)
    ) {
        let changes: Vec<Change> = paths
            .iter()
            .map(|p| Change::Remove { path: RelPath::from_bytes(p).unwrap() })
            .collect();
        let decoded = journal::decode(&journal::encode(&changes)).unwrap();
        let back: Vec<&[u8]> = decoded.iter().map(|c| c.path().as_bytes()).collect();
        prop_assert_eq!(back, paths.iter().map(Vec::as_slice).collect::<Vec<_>>());
    }

    #[test]
    fn every_journal_path_that_is_not_plain_relative_is_refused(
        path in hostile_path(),
        step in prop::sample::select(STEPS.to_vec()),
    ) {
        let err = journal::decode(&journal_of_step(step, &path)).unwrap_err();
        prop_assert!(err.contains("is not a plain relative path"), "{}", err);
    }
}

proptest! {
    // Each case runs the binary once; the two properties above run the same
    // classes 4096 times against the journal's decoder.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_journal_path_that_is_not_plain_relative_is_refused_end_to_end(
        path in hostile_path(),
        step in prop::sample::select(STEPS.to_vec()),
    ) {
        thread_local! {
            static SETUP: Setup = Setup::new();
        }
        SETUP.with(|setup| {
            let staging = setup.sealed(&journal_of_step(step, &path), &[("0", b"pwned\n")]);
            setup.refuses(&staging, "is not a plain relative path");
        });
    }
}
