//! The generated build, run for real: `./build.sh --local` makes each Lambda's
//! zip, which is opened and imported by its AWS handler string the way the
//! Lambda runtime does it. The Docker path runs the same packager
//! (`build.sh --local` inside the build image): `tests/docker_build.rs` runs it.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::build::*;
use common::*;

/// Extracts `zip` into a fresh task root, imports `handler` from it alone and
/// calls it with `event`; returns the zip's entries and the handler's answer.
fn run_from_zip(zip: &Path, handler: &str, event: &Path) -> serde_json::Value {
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/lambda_runtime.py");
    let out = Command::new(python())
        .arg("-I")
        .arg(runtime)
        .arg(zip)
        .arg(handler)
        .arg(event)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "importing {handler} from {} failed:\n{}",
        zip.display(),
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("runtime prints JSON")
}

fn entry_names(answer: &serde_json::Value) -> Vec<String> {
    answer["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[0].as_str().unwrap().to_string())
        .collect()
}

fn assert_clean_zip(answer: &serde_json::Value, module: &str) {
    let names = entry_names(answer);
    for expected in [
        format!("{module}.py"),
        "__init__.py".into(),
        "utils/".into(),
        "utils/__init__.py".into(),
    ] {
        assert!(names.contains(&expected), "missing {expected} in {names:?}");
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "entries are sorted");
    for entry in answer["entries"].as_array().unwrap() {
        let (name, mode) = (entry[0].as_str().unwrap(), entry[1].as_u64().unwrap());
        assert!(
            !name.contains("__pycache__") && !name.ends_with(".pyc"),
            "{name}"
        );
        assert!(
            !name.starts_with("test/") && !name.contains("test_"),
            "{name}"
        );
        let want = if name.ends_with('/') {
            0o40755
        } else {
            0o100644
        };
        assert_eq!(mode, want, "mode of {name}");
        assert_eq!(
            entry[2],
            serde_json::json!([1980, 1, 1, 0, 0, 0]),
            "timestamp of {name}"
        );
    }
}

#[test]
fn every_lambda_of_both_layouts_builds_and_runs_from_its_zip() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "log-centric",
            &[("producers", "error_event"), ("consumers", "error_sink")],
        ),
        ("web-stack", &[("handlers", "login")]),
    ];
    for (layout, added) in cases {
        let (_dir, root) = project("svc", &["--layout", layout]);
        for (kind, name) in *added {
            ok(&root, &["add-handler", kind, name]);
        }
        // Bytecode left by running the tests must not reach the zips.
        Command::new(python())
            .args(["-m", "unittest", "-q"])
            .current_dir(&root)
            .output()
            .unwrap();
        let examples: Vec<(&str, &str)> = match *layout {
            "web-stack" => vec![("handlers", "index")],
            _ => vec![("producers", "log_event"), ("consumers", "log_sink")],
        };
        for (kind, name) in examples.iter().chain(added.iter()) {
            let out = build_ok(&root, &["--local", name, &format!("./{kind}/{name}")], &[]);
            assert!(
                out.contains(&format!("target/{name}.zip")) && out.contains("sha256:"),
                "{out}"
            );
            let fixture = root.join("test/fixtures").join(match *kind {
                "producers" => "eventbridge_event.json",
                "consumers" => "kinesis_event.json",
                _ => "api_gateway_event.json",
            });
            let answer = run_from_zip(
                &root.join(format!("target/{name}.zip")),
                &format!("{kind}.{name}"),
                &fixture,
            );
            assert_clean_zip(&answer, kind);
            let result = &answer["result"];
            match *kind {
                "producers" => assert_eq!(
                    result["PartitionKey"],
                    "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
                ),
                "consumers" => assert_eq!(result, &serde_json::json!({"batchItemFailures": []})),
                _ => {
                    assert_eq!(result["statusCode"], 200);
                    assert_eq!(result["body"], "{\"message\": \"hello, lambda\"}");
                }
            }
        }
    }
}

#[test]
fn building_twice_gives_byte_identical_zips() {
    let (_dir, root) = project("svc", &[]);
    build_ok(
        &root,
        &["--local", "log_event", "./producers/log_event"],
        &[],
    );
    let first = fs::read(root.join("target/log_event.zip")).unwrap();
    // Touch every source: timestamps must not leak into the zip.
    for entry in walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
    {
        let f = fs::OpenOptions::new()
            .append(true)
            .open(entry.path())
            .unwrap();
        f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
            .unwrap();
    }
    build_ok(
        &root,
        &["--local", "log_event", "./producers/log_event"],
        &[],
    );
    let second = fs::read(root.join("target/log_event.zip")).unwrap();
    assert!(first == second, "two builds of the same sources differ");
}

#[test]
fn dependencies_from_a_local_wheel_folder_and_utils_are_importable_inside_the_zip() {
    let (dir, root) = project("svc", &["--layout", "web-stack"]);
    let wheels = dir.path().join("wheels");
    fs::create_dir(&wheels).unwrap();
    write_wheel(
        &wheels,
        "lsdemo_greeting",
        "def greet(name):\n    return 'hi ' + name\n",
    );
    let mut requirements = fs::OpenOptions::new()
        .append(true)
        .open(root.join("requirements.txt"))
        .unwrap();
    writeln!(requirements, "lsdemo_greeting==1.0").unwrap();
    fs::write(
        root.join("utils/text.py"),
        "def shout(s):\n    return s.upper()\n",
    )
    .unwrap();
    let module = root.join("handlers/index/handlers.py");
    let code = fs::read_to_string(&module).unwrap().replace(
        "import json\n",
        "import json\n\nfrom lsdemo_greeting import greet\n\nfrom utils.text import shout\n",
    );
    let stub_line = "return {\"message\": f\"hello, {params.get('name', 'world')}\"}";
    assert!(code.contains(stub_line), "the stub changed: {code}");
    let code = code.replace(
        stub_line,
        "return {\"message\": shout(greet(params.get(\"name\", \"world\")))}",
    );
    fs::write(&module, code).unwrap();
    // Hidden files beside the code (secrets, editor litter) must not ship.
    fs::write(root.join("handlers/index/.env"), "TOKEN=secret\n").unwrap();
    fs::write(root.join("utils/.DS_Store"), "x").unwrap();
    let extra = format!("--no-index --find-links {}", wheels.display());
    build_ok(
        &root,
        &["--local", "index", "./handlers/index"],
        &[("PIP_EXTRA_ARGS", &extra)],
    );
    let answer = run_from_zip(
        &root.join("target/index.zip"),
        "handlers.index",
        &root.join("test/fixtures/api_gateway_event.json"),
    );
    let names = entry_names(&answer);
    assert!(
        names.contains(&"lsdemo_greeting/__init__.py".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"utils/text.py".to_string()), "{names:?}");
    // A dependency keeps its own tests package: it may import it at run time.
    assert!(
        names.contains(&"lsdemo_greeting/tests/__init__.py".to_string()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains("/.") || n.starts_with('.')),
        "{names:?}"
    );
    assert_eq!(answer["result"]["body"], "{\"message\": \"HI LAMBDA\"}");
}

#[test]
fn build_all_builds_every_lambda_and_list_names_them() {
    let (_dir, root) = project("svc", &[]);
    ok(&root, &["add-handler", "producers", "error_event"]);
    let listed = build_ok(&root, &["--list"], &[]);
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        [
            "error_event ./producers/error_event",
            "log_event ./producers/log_event",
            "log_sink ./consumers/log_sink"
        ]
    );
    build_ok(&root, &["--all", "--local"], &[]);
    for name in ["error_event", "log_event", "log_sink"] {
        assert!(root.join(format!("target/{name}.zip")).is_file(), "{name}");
    }
}

#[test]
fn build_refuses_a_missing_folder_and_bad_usage() {
    let (_dir, root) = project("svc", &[]);
    let out = build_sh(&root, &["--local", "ghost", "./producers/ghost"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error: Lambda folder `./producers/ghost` does not exist"),
        "{}",
        stderr(&out)
    );
    assert!(!root.join("target/ghost.zip").exists());
    let out = build_sh(&root, &["--local", "only_name"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = build_sh(&root, &["--bogus"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_missing_wheel_fails_the_build_with_a_hint_and_writes_no_zip() {
    let (dir, root) = project("svc", &[]);
    fs::write(root.join("requirements.txt"), "lsdemo_absent==9.9\n").unwrap();
    let extra = format!("--no-index --find-links {}", dir.path().display());
    let out = build_sh(
        &root,
        &["--local", "log_event", "./producers/log_event"],
        &[("PIP_EXTRA_ARGS", &extra)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("hint: "), "{}", stderr(&out));
    assert!(!root.join("target/log_event.zip").exists());
}
