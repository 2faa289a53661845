//! The generated build, run for real: `./build.sh --local` makes each Lambda's
//! zip, which runs under the real Lambda runtime client (awslambdaric, served
//! by the Runtime API stand-in of `tests/support/lambda_runtime.py`) by its AWS
//! handler string. The same import lines pass in the project's tests, in
//! `invoke` and in the zip, and `invoke` runs exactly the files the zip holds.
//! The Docker path runs the same packager (`build.sh --local` inside the build
//! image): `tests/docker_build.rs` runs it.

mod common;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::build::*;
use common::*;

fn entry_names(answer: &serde_json::Value) -> Vec<String> {
    answer["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[0].as_str().unwrap().to_string())
        .collect()
}

fn assert_clean_zip(answer: &serde_json::Value, kind: &str, name: &str) {
    let names = entry_names(answer);
    for expected in [
        format!("{kind}/__init__.py"),
        format!("{kind}/{name}/__init__.py"),
        format!("{kind}/{name}/{kind}.py"),
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
                _ => "http_api_event.json",
            });
            let answer = run_from_zip(
                &root.join(format!("target/{name}.zip")),
                &format!("{kind}.{name}"),
                &fixture,
            );
            assert_clean_zip(&answer, kind, name);
            let result = &answer["result"];
            match *kind {
                "producers" => assert_eq!(
                    result["PartitionKey"],
                    "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
                ),
                "consumers" => assert_eq!(result, &serde_json::json!({"batchItemFailures": []})),
                _ => {
                    assert_eq!(result["statusCode"], 200);
                    assert_eq!(result["body"], "{\"received\": {\"test\": \"body\"}}");
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
        touch_later(entry.path());
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
    make_wheel(
        &wheels,
        &[
            "lsdemo_greeting",
            "1.0",
            "py3-none-any",
            "--init",
            "def greet(name):\n    return 'hi ' + name\n",
        ],
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
        "from typing import Any\n",
        "from typing import Any\n\nfrom lsdemo_greeting import greet as hi\n\nfrom utils.text import shout\n",
    );
    let stub_line = "return {\"message\": f\"hello, {params.get('name', 'world')}\"}";
    assert!(code.contains(stub_line), "the stub changed: {code}");
    let code = code.replace(
        stub_line,
        "return {\"message\": shout(hi(params.get(\"name\", \"world\")))}",
    );
    fs::write(&module, code).unwrap();
    // Hidden files beside the code (secrets, editor litter) must not ship.
    fs::write(root.join("handlers/index/.env"), "TOKEN=secret\n").unwrap();
    fs::write(root.join("utils/.DS_Store"), "x").unwrap();
    lock_from(&root, &wheels);
    let extra = format!("--no-index --find-links {}", wheels.display());
    build_ok(
        &root,
        &["--local", "index", "./handlers/index"],
        &[("PIP_EXTRA_ARGS", &extra)],
    );
    // The HTTP API sample event as a GET with `?name=lambda`.
    let mut get: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("test/fixtures/http_api_event.json")).unwrap())
            .unwrap();
    get["requestContext"]["http"]["method"] = "GET".into();
    get["queryStringParameters"] = serde_json::json!({"name": "lambda"});
    let get_event = dir.path().join("get_event.json");
    fs::write(&get_event, get.to_string()).unwrap();
    let answer = run_from_zip(&root.join("target/index.zip"), "handlers.index", &get_event);
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
fn build_all_builds_exactly_the_lambdas_the_manifest_lists() {
    let (_dir, root) = project("svc", &[]);
    ok(&root, &["add-handler", "producers", "error_event"]);
    // Handler-shaped folders the manifest does not list are not Lambdas.
    for stray in ["producers/MyThing", "producers/stray"] {
        fs::create_dir_all(root.join(stray)).unwrap();
        fs::write(
            root.join(stray).join("producers.py"),
            "def stray(event, context):\n    return 1\n",
        )
        .unwrap();
    }
    let listed = build_ok(&root, &["--list"], &[]);
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        [
            "log_event ./producers/log_event",
            "log_sink ./consumers/log_sink",
            "error_event ./producers/error_event",
        ]
    );
    build_ok(&root, &["--all", "--local"], &[]);
    let mut built: Vec<String> = fs::read_dir(root.join("target"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with(".zip.inputs"))
        .collect();
    built.sort();
    assert_eq!(built, ["error_event.zip", "log_event.zip", "log_sink.zip"]);
}

/// Runs a refused build: exit 1, one `error:` line and one `hint:` line, no
/// traceback, and nothing changed in the project.
fn assert_build_refused(root: &Path, args: &[&str], envs: &[(&str, &str)], message: &str) {
    let before = snapshot(root);
    let out = build_sh(root, args, envs);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("+ ")).collect();
    assert!(
        lines.len() >= 2
            && lines[lines.len() - 2].starts_with("error: ")
            && lines[lines.len() - 1].starts_with("hint: "),
        "{args:?}: not an error and a hint:\n{err}"
    );
    assert!(
        err.contains(message),
        "{args:?}: expected `{message}` in:\n{err}"
    );
    assert!(!err.contains("Traceback"), "{err}");
    assert_eq!(snapshot(root), before, "{args:?} changed the project");
}

#[test]
fn build_refuses_a_path_outside_the_project_and_a_name_that_is_not_the_handler() {
    let (dir, root) = project("svc", &[]);
    let (_other_dir, other) = project("other", &[]);
    let outside = other.join("producers/log_event");
    let sibling = dir.path().join("other/producers/log_event");
    fs::create_dir_all(&sibling).unwrap();
    fs::copy(outside.join("producers.py"), sibling.join("producers.py")).unwrap();
    fs::write(
        root.join("producers/log_event/helper.py"),
        "def helper():\n    return 1\n",
    )
    .unwrap();
    let outside = outside.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--local", "log_event", "../other/producers/log_event"],
            "`../other/producers/log_event` is outside the project",
        ),
        (&["--local", "log_event", outside], "is outside the project"),
        (
            &["--local", "other", "./producers/log_event"],
            "`other` is not the handler in `./producers/log_event`",
        ),
        (
            &["--local", "utils", "./utils"],
            "`./utils` is not a handler folder `<kind>/<name>`",
        ),
        (
            &["--local", "log_event", "./producers/log_event/helper.py"],
            "is not a handler folder",
        ),
        (
            &["--local", "../x", "./producers/log_event"],
            "`../x` is not a valid Lambda name",
        ),
    ];
    for (args, message) in cases {
        assert_build_refused(&root, args, &[], message);
    }
    // A module whose handler is `async def`: Lambda would not await it.
    let module = root.join("producers/log_event/producers.py");
    let code = fs::read_to_string(&module).unwrap();
    assert!(code.contains("\ndef log_event("), "{code}");
    fs::write(
        &module,
        code.replace("\ndef log_event(", "\nasync def log_event("),
    )
    .unwrap();
    assert_build_refused(
        &root,
        &["--local", "log_event", "./producers/log_event"],
        &[],
        "`producers/log_event/producers.py` defines no `log_event`",
    );
    assert!(!root.join("target").exists());
}

#[test]
fn a_target_that_is_a_file_or_unreadable_requirements_are_one_error_line_with_a_hint() {
    let (_dir, root) = project("svc", &[]);
    let lambda = ["--local", "log_event", "./producers/log_event"];
    fs::write(root.join("target"), "not a folder").unwrap();
    assert_build_refused(&root, &lambda, &[], "cannot write `target/log_event.zip`");
    fs::remove_file(root.join("target")).unwrap();
    fs::write(root.join("requirements.txt"), b"caf\xe9\n").unwrap();
    assert_build_refused(&root, &lambda, &[], "`requirements.txt` is not UTF-8 text");
}

#[test]
fn build_settings_come_from_the_manifest_and_hostile_values_are_refused() {
    let (_dir, root) = project("svc", &["--python", "3.12"]);
    // Official python images set PYTHON_VERSION to a patch version: ignored.
    let help = build_ok(&root, &["--help"], &[("PYTHON_VERSION", "3.13.9")]);
    assert!(
        help.contains("sam/build-python3.12:1.170.0-x86_64"),
        "{help}"
    );
    let manifest = root.join("lambdas.toml");
    let original = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        original.replace("arch = \"x86_64\"", "arch = \"arm64\" # changed"),
    )
    .unwrap();
    let help = build_ok(&root, &["--help"], &[]);
    assert!(
        help.contains("sam/build-python3.12:1.170.0-arm64"),
        "{help}"
    );
    let pwned = root.join("pwned");
    let hostile: &[(&str, &str, &str)] = &[
        (
            "python = \"3.12\"",
            "python = \"$(touch pwned)\"",
            "no supported `python` setting",
        ),
        (
            "python = \"3.12\"",
            "python = \"3.12\\\"; touch pwned; \\\"\"",
            "`python` is not written as a plain string",
        ),
        ("python = \"3.12\"", "", "no supported `python` setting"),
        (
            "name = \"log_event\"",
            "name = \"log_event; touch pwned\"",
            "handler name `log_event; touch pwned` is not a snake_case Python identifier",
        ),
        (
            "kind = \"producers\"",
            "kind = \"../../etc\"",
            "handler kind `../../etc` is not one of producers consumers",
        ),
    ];
    for (from, to, message) in hostile {
        assert!(original.contains(from), "{original}");
        fs::write(&manifest, original.replacen(from, to, 1)).unwrap();
        for args in [&["--list"][..], &["--all", "--local"]] {
            assert_build_refused(&root, args, &[], message);
        }
        assert!(!pwned.exists(), "a manifest value ran as shell code");
    }
}

#[test]
fn build_all_builds_every_lambda_and_list_names_them() {
    let (_dir, root) = project("svc", &[]);
    build_ok(&root, &["--all", "--local"], &[]);
    for name in ["log_event", "log_sink"] {
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
fn a_missing_wheel_fails_the_lock_with_a_hint_and_the_build_refuses_the_stale_lock() {
    let (dir, root) = project("svc", &[]);
    fs::write(root.join("requirements.txt"), "lsdemo_absent==9.9\n").unwrap();
    let extra = format!("--no-index --find-links {}", dir.path().display());
    let before = snapshot(&root);
    let out = lock_sh(&root, &[("PIP_EXTRA_ARGS", &extra)]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: uv could not resolve `requirements.txt` for Lambda")
            && err.contains("lsdemo-absent")
            && err.contains("hint: "),
        "{err}"
    );
    assert_eq!(
        snapshot(&root),
        before,
        "a failed --lock leaves the tree as it was"
    );
    let out = build_sh(
        &root,
        &["--local", "log_event", "./producers/log_event"],
        &[("PIP_EXTRA_ARGS", &extra)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("hint: "), "{}", stderr(&out));
    assert!(!root.join("target/log_event.zip").exists());
}

/// Builds `log_event` of a new project made with `project_args`, with
/// `requirements` installed from `wheels` only (plus `extra_pip` options),
/// through a lock written by hand: the packager's own checks, as a lock
/// uv did not resolve for this runtime would meet them.
fn build_with_wheels(
    project_args: &[&str],
    wheels: &Path,
    requirements: &str,
    extra_pip: &str,
) -> (tempfile::TempDir, PathBuf, Output) {
    let (dir, root) = project("svc", project_args);
    fs::write(root.join("requirements.txt"), requirements).unwrap();
    hand_lock(&root, wheels);
    let extra = format!("--no-index --find-links {} {extra_pip}", wheels.display());
    let out = build_sh(
        &root,
        &["--local", "log_event", "./producers/log_event"],
        &[("PIP_EXTRA_ARGS", &extra)],
    );
    (dir, root, out)
}

/// The `NAME-VERSION.dist-info/` folders a zip holds.
fn dist_infos(zip: &Path) -> Vec<String> {
    let out = Command::new(python())
        .arg("-c")
        .arg(
            "import sys, zipfile\n\
             names = zipfile.ZipFile(sys.argv[1]).namelist()\n\
             print(*sorted({n.split('/')[0] for n in names if '.dist-info/' in n}))",
        )
        .arg(zip)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).split_whitespace().map(String::from).collect()
}

#[test]
fn the_lock_resolves_for_each_runtimes_glibc_and_architecture_and_builds_from_it() {
    let wheels = tempfile::tempdir().unwrap();
    let w = wheels.path();
    make_wheel(w, &["lsdemo_fast", "2.0", "py3-none-manylinux_2_28_x86_64"]);
    make_wheel(
        w,
        &[
            "lsdemo_fast",
            "1.0",
            "py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64",
        ],
    );
    make_wheel(w, &["lsdemo_arm", "1.0", "py3-none-manylinux2014_aarch64"]);
    let extra = format!("--no-index --find-links {}", w.display());
    // Amazon Linux 2023 (glibc 2.34) loads the newer build, Amazon Linux 2
    // (glibc 2.26) only the older one; uv resolves for the runtime, not the host.
    let cases: [(&[&str], &str, &str); 3] = [
        (&["--python", "3.12"], "lsdemo_fast", "2.0"),
        (&["--python", "3.11"], "lsdemo_fast", "1.0"),
        (
            &["--python", "3.13", "--arch", "arm64"],
            "lsdemo_arm",
            "1.0",
        ),
    ];
    for (args, package, version) in cases {
        let (_dir, root) = project("svc", args);
        fs::write(root.join("requirements.txt"), format!("{package}\n")).unwrap();
        lock_from(&root, w);
        let lock = fs::read_to_string(root.join("requirements.lock")).unwrap();
        let pin = format!(
            "{}=={version} \\\n    --hash=sha256:",
            package.replace('_', "-")
        );
        assert!(lock.contains(&pin), "{args:?}: {lock}");
        build_ok(
            &root,
            &["--local", "log_event", "./producers/log_event"],
            &[("PIP_EXTRA_ARGS", &extra)],
        );
        assert_eq!(
            dist_infos(&root.join("target/log_event.zip")),
            [format!("{package}-{version}.dist-info")],
            "{args:?}"
        );
    }
    // An aarch64-only package has nothing for an x86_64 project.
    let (_dir, root) = project("svc", &[]);
    fs::write(root.join("requirements.txt"), "lsdemo_arm\n").unwrap();
    let out = lock_sh(&root, &[("PIP_EXTRA_ARGS", &extra)]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: uv could not resolve `requirements.txt` for Lambda"),
        "{err}"
    );
    // The packager's own check, for a lock that pins it anyway.
    let (_dir, root, out) = build_with_wheels(&[], w, "lsdemo_arm\n", "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: no wheel of `lsdemo_arm` fits Lambda's python3.13 x86_64 (Amazon Linux 2023, glibc 2.34)"),
        "{err}"
    );
    assert!(!root.join("target").exists());
}

#[test]
fn a_package_that_ships_only_source_code_is_refused_with_a_hint_to_build_in_docker() {
    let wheels = tempfile::tempdir().unwrap();
    make_wheel(wheels.path(), &["lsdemo_src", "1.0", "--sdist"]);
    let (_dir, root, out) = build_with_wheels(&[], wheels.path(), "lsdemo_src==1.0\n", "");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: no wheel of `lsdemo_src` fits"),
        "{err}"
    );
    assert!(
        err.contains("hint: ") && err.contains("sdist") && err.contains("without --local"),
        "{err}"
    );
    assert!(!root.join("target").exists());
}

#[test]
fn dependencies_lambda_could_not_load_are_refused_naming_the_package() {
    let wheels = tempfile::tempdir().unwrap();
    let w = wheels.path();
    let linux = "py3-none-manylinux2014_x86_64";
    make_wheel(w, &["lsdemo_mac", "1.0", linux, "--native", "macho"]);
    make_wheel(
        w,
        &["lsdemo_armso", "1.0", linux, "--native", "elf:aarch64:2.17"],
    );
    make_wheel(
        w,
        &[
            "lsdemo_newglibc",
            "1.0",
            linux,
            "--native",
            "elf:x86_64:2.28",
        ],
    );
    make_wheel(
        w,
        &["lsdemo_ok", "1.0", linux, "--native", "elf:x86_64:2.17"],
    );
    make_wheel(w, &["lsdemo_228", "1.0", "py3-none-manylinux_2_28_x86_64"]);
    make_wheel(
        w,
        &["lsdemo_nogil", "1.0", "cp313-cp313t-manylinux2014_x86_64"],
    );
    let cases: &[(&[&str], &str, &str, &str)] = &[
        (
            &[],
            "lsdemo_mac\n",
            "",
            "`lsdemo_mac 1.0`: `lsdemo_mac/_native.so` is a macOS (Mach-O) binary",
        ),
        (
            &[],
            "lsdemo_armso\n",
            "",
            "`lsdemo_armso 1.0`: `lsdemo_armso/_native.so` is built for aarch64, not x86_64",
        ),
        // A wheel whose tag claims more than its binary keeps.
        (
            &["--python", "3.11"],
            "lsdemo_newglibc\n",
            "",
            "`lsdemo_newglibc 1.0`: `lsdemo_newglibc/_native.so` needs GLIBC_2.28, newer than the runtime's glibc 2.26",
        ),
        // A free-threaded build forced in: Lambda's interpreter has the GIL.
        (
            &[],
            "lsdemo_nogil\n",
            "--abi cp313t",
            "`lsdemo_nogil 1.0` is a wheel for cp313-cp313t-manylinux2014_x86_64",
        ),
        // A manylinux_2_28 wheel forced into a python3.11 (glibc 2.26) build.
        (
            &["--python", "3.11"],
            "lsdemo_228\n",
            "--platform manylinux_2_28_x86_64",
            "`lsdemo_228 1.0` is a wheel for py3-none-manylinux_2_28_x86_64",
        ),
    ];
    for (project_args, requirements, extra, message) in cases {
        let (_dir, root, out) = build_with_wheels(project_args, w, requirements, extra);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{requirements}: {err}");
        assert!(err.contains("could not load these dependencies"), "{err}");
        assert!(err.contains(message), "expected `{message}` in:\n{err}");
        assert!(err.contains("\nhint: "), "{err}");
        assert!(!root.join("target").exists(), "{requirements}");
    }
    // The same checks pass a library built for the runtime.
    let (_dir, root, out) = build_with_wheels(&["--python", "3.11"], w, "lsdemo_ok\n", "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        dist_infos(&root.join("target/log_event.zip")),
        ["lsdemo_ok-1.0.dist-info"]
    );
}

/// Shared code for `utils/text.py`.
const SHOUT: &str = "def shout(text):\n    return text.upper()\n";

/// Runs `invoke KIND NAME` in `root`; returns its JSON answer.
fn invoke_answer(root: &Path, kind: &str, name: &str) -> serde_json::Value {
    let out = ok(root, &["invoke", kind, name]);
    serde_json::from_slice(&out.stdout).expect("invoke prints JSON")
}

#[test]
fn helpers_sub_packages_and_utils_import_alike_in_the_tests_in_invoke_and_under_awslambdaric() {
    let (_dir, root) = project("svc", &["--bare"]);
    ok(&root, &["add-handler", "producers", "order_created"]);
    ok(&root, &["add-handler", "consumers", "order_sink"]);
    // Two handlers with a helper module of the same name, a sub-package, utils/.
    write_file(
        &root,
        "producers/order_created/schema.py",
        "KIND = \"order created\"\n",
    );
    write_file(&root, "producers/order_created/rules/__init__.py", "");
    write_file(
        &root,
        "producers/order_created/rules/limits.py",
        "LIMIT = 7\n",
    );
    write_file(
        &root,
        "consumers/order_sink/schema.py",
        "KIND = \"order sink\"\n",
    );
    write_file(&root, "utils/text.py", SHOUT);
    write_file(
        &root,
        "producers/order_created/producers.py",
        "from producers.order_created.rules.limits import LIMIT\n\
         from producers.order_created.schema import KIND\n\
         from utils.text import shout\n\n\n\
         def describe():\n    return {\"schema\": KIND, \"limit\": LIMIT, \"shout\": shout(KIND)}\n\n\n\
         def order_created(event, context):\n    return describe()\n",
    );
    write_file(
        &root,
        "consumers/order_sink/consumers.py",
        "from consumers.order_sink import schema\n\
         from consumers.order_sink.schema import KIND\n\n\n\
         def describe():\n    return {\"schema\": KIND, \"same\": schema.KIND == KIND}\n\n\n\
         def order_sink(event, context):\n    return describe()\n",
    );
    let produced =
        serde_json::json!({"schema": "order created", "limit": 7, "shout": "ORDER CREATED"});
    let sunk = serde_json::json!({"schema": "order sink", "same": true});
    // The tests import the handlers by the same lines, both schemas in one run.
    for (kind, name, schema) in [
        ("producers", "order_created", "order created"),
        ("consumers", "order_sink", "order sink"),
    ] {
        write_file(
            &root,
            &format!("test/{kind}/{name}/test_{kind}.py"),
            &format!(
                "import unittest\n\nfrom {kind}.{name}.{kind} import describe\n\n\n\
                 class DescribeTest(unittest.TestCase):\n    def test_uses_its_own_schema(self):\n\
                 \x20       self.assertEqual(describe()[\"schema\"], \"{schema}\")\n"
            ),
        );
    }
    assert_eq!(python_unittest(&root), PROJECT_TESTS + 2);
    // Plain pytest too (configured by the project's pyproject.toml), all in one run.
    let pytest = tool("pytest").expect("pytest (scripts/test.sh installs it)");
    let out = Command::new(pytest)
        .args(["-q", "-p", "no:cacheprovider"])
        .current_dir(&root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("pytest runs");
    let passed = format!("{} passed", PROJECT_TESTS + 2);
    assert!(
        out.status.success() && stdout(&out).contains(&passed),
        "pytest:\n{}{}",
        stdout(&out),
        stderr(&out)
    );

    assert_eq!(invoke_answer(&root, "producers", "order_created"), produced);
    assert_eq!(invoke_answer(&root, "consumers", "order_sink"), sunk);
    build_ok(&root, &["--all", "--local"], &[]);
    let event = root.join("test/fixtures/kinesis_event.json");
    let answer = run_from_zip(
        &root.join("target/order_created.zip"),
        "producers.order_created",
        &event,
    );
    assert_eq!(answer["result"], produced);
    let names = entry_names(&answer);
    for expected in [
        "producers/__init__.py",
        "producers/order_created/rules/limits.py",
        "producers/order_created/schema.py",
        "utils/text.py",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} in {names:?}"
        );
    }
    let answer = run_from_zip(
        &root.join("target/order_sink.zip"),
        "consumers.order_sink",
        &event,
    );
    assert_eq!(answer["result"], sunk);
    assert!(
        !entry_names(&answer)
            .iter()
            .any(|n| n.starts_with("producers/")),
        "one Lambda's zip holds no other's code"
    );
}

/// A handler that answers with every file of its task root, as Lambda has it.
const LIST_TASK_ROOT: &str = "import os\n\n\
    from producers.log_event.lookup.table import TABLE\n\
    from producers.log_event.test_data import SAMPLE\n\n\n\
    def log_event(event, context):\n\
    \x20   root = os.environ[\"LAMBDA_TASK_ROOT\"]\n\
    \x20   files = sorted(\n\
    \x20       os.path.relpath(os.path.join(folder, name), root)\n\
    \x20       for folder, _, names in os.walk(root)\n\
    \x20       for name in names\n\
    \x20   )\n\
    \x20   return {\"files\": files, \"table\": TABLE, \"sample\": SAMPLE}\n";

#[test]
fn invoke_runs_exactly_the_files_the_zip_holds_linked_folders_and_test_named_modules_included() {
    let (_dir, root) = project("svc", &[]);
    // A runtime module named like a test, and a linked folder inside the project.
    write_file(&root, "producers/log_event/test_data.py", "SAMPLE = 1\n");
    write_file(&root, "data/lookup/__init__.py", "");
    write_file(&root, "data/lookup/table.py", "TABLE = {\"a\": 1}\n");
    std::os::unix::fs::symlink("../../data/lookup", root.join("producers/log_event/lookup"))
        .unwrap();
    write_file(&root, "producers/log_event/producers.py", LIST_TASK_ROOT);
    // Hidden files and bytecode stay out of both.
    write_file(&root, "producers/log_event/.env", "TOKEN=secret\n");
    write_file(
        &root,
        "producers/log_event/__pycache__/x.cpython-313.pyc",
        "",
    );

    let invoked = invoke_answer(&root, "producers", "log_event");
    build_ok(
        &root,
        &["--local", "log_event", "./producers/log_event"],
        &[],
    );
    let zipped = run_from_zip(
        &root.join("target/log_event.zip"),
        "producers.log_event",
        &root.join("test/fixtures/eventbridge_event.json"),
    );
    assert_eq!(zipped["result"], invoked, "invoke and the zip differ");
    assert_eq!(
        invoked["files"],
        serde_json::json!([
            "producers/__init__.py",
            "producers/log_event/__init__.py",
            "producers/log_event/lookup/__init__.py",
            "producers/log_event/lookup/table.py",
            "producers/log_event/producers.py",
            "producers/log_event/test_data.py",
            "utils/__init__.py",
            "utils/batch.py",
            "utils/lambda_context.py",
            "utils/logs.py",
        ])
    );
}

#[test]
fn links_leading_outside_the_project_or_nowhere_are_refused_by_the_build_and_by_invoke_alike() {
    let (dir, root) = project("svc", &[]);
    let outside = dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("secret.txt"), "do not ship\n").unwrap();
    let cases: &[(&str, PathBuf, &str)] = &[
        (
            "producers/log_event/secret.txt",
            outside.join("secret.txt"),
            "`producers/log_event/secret.txt` leads outside the project, to `",
        ),
        (
            "utils/shared",
            outside.clone(),
            "`utils/shared` leads outside the project, to `",
        ),
        (
            "producers/log_event/gone.py",
            root.join("nowhere.py"),
            "`producers/log_event/gone.py` is a symbolic link that leads nowhere",
        ),
        (
            "producers/log_event/again",
            PathBuf::from("."),
            "`producers/log_event/again` links back to `producers/log_event`, a folder that holds it",
        ),
    ];
    for (link, target, message) in cases {
        std::os::unix::fs::symlink(target, root.join(link)).unwrap();
        assert_refused(&root, &root, &["invoke", "producers", "log_event"], message);
        let before = snapshot(&root);
        let out = build_sh(
            &root,
            &["--local", "log_event", "./producers/log_event"],
            &[],
        );
        assert_eq!(out.status.code(), Some(1), "{link}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("error: {message}")),
            "{link}: {}",
            stderr(&out)
        );
        assert_eq!(snapshot(&root), before, "{link}: no zip, nothing written");
        fs::remove_file(root.join(link)).unwrap();
    }
}

#[test]
fn the_packager_gives_every_verdict_of_the_shared_handler_definition_table() {
    // The same table `check` is tested against (src/handler_module.rs).
    let table = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/handler_definitions.json");
    let (dir, root) = project("svc", &[]);
    let script = "import json, sys, tempfile\n\
        from pathlib import Path\n\
        sys.path.insert(0, 'tools')\n\
        from package_lambda import defines\n\
        wrong = []\n\
        cases = json.loads(Path(sys.argv[1]).read_text())\n\
        for case in cases:\n\
        \x20   module = Path(sys.argv[2]) / 'module.py'\n\
        \x20   module.write_text(case['source'])\n\
        \x20   if defines(module, case['name']) != case['defines']:\n\
        \x20       wrong.append(case['case'])\n\
        print(len(cases), json.dumps(wrong))\n";
    let out = Command::new(python())
        .args(["-c", script])
        .arg(&table)
        .arg(dir.path())
        .current_dir(&root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let (count, wrong) = text.trim().split_once(' ').unwrap();
    assert!(count.parse::<usize>().unwrap() >= 20, "{text}");
    assert_eq!(wrong, "[]", "wrong verdicts of the packager");
}

#[test]
fn native_mode_refuses_an_interpreter_that_is_not_the_runtimes() {
    let host = Command::new(python())
        .args(["-c", "import sys; print(f'3.{sys.version_info[1]}')"])
        .output()
        .unwrap();
    let other = if stdout(&host).trim() == "3.14" {
        "3.10"
    } else {
        "3.14"
    };
    let (dir, root) = project("svc", &["--python", other]);
    fs::write(root.join("requirements.txt"), "lsdemo_any\n").unwrap();
    make_wheel(dir.path(), &["lsdemo_any", "1.0", "py3-none-any"]);
    hand_lock(&root, dir.path());
    assert_build_refused(
        &root,
        &["--local", "--native", "log_event", "./producers/log_event"],
        &[],
        &format!("which is not Lambda's python{other} x86_64"),
    );
    let out = build_sh(
        &root,
        &["--native", "log_event", "./producers/log_event"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_web_handler_with_a_sub_package_and_utils_runs_alike_under_invoke_and_awslambdaric() {
    let (_dir, root) = project("site", &["--layout", "web-stack", "--bare"]);
    ok(&root, &["add-handler", "handlers", "pages"]);
    write_file(&root, "handlers/pages/views/__init__.py", "");
    write_file(
        &root,
        "handlers/pages/views/render.py",
        "from utils.text import shout\n\n\ndef page(name):\n    return shout(\"page \" + name)\n",
    );
    write_file(&root, "utils/text.py", SHOUT);
    write_file(
        &root,
        "handlers/pages/handlers.py",
        "from handlers.pages.views.render import page\n\n\n\
         def pages(event, context):\n    return {\"statusCode\": 200, \"body\": page(\"one\")}\n",
    );
    let invoked = invoke_answer(&root, "handlers", "pages");
    assert_eq!(
        invoked,
        serde_json::json!({"statusCode": 200, "body": "PAGE ONE"})
    );
    build_ok(&root, &["--local", "pages", "./handlers/pages"], &[]);
    let zipped = run_from_zip(
        &root.join("target/pages.zip"),
        "handlers.pages",
        &root.join("test/fixtures/http_api_event.json"),
    );
    assert_eq!(zipped["result"], invoked);
}

#[test]
fn what_the_zip_leaves_out_that_python_could_import_is_named_by_the_build_and_by_invoke() {
    let (_dir, root) = project("svc", &[]);
    // Bytecode with no source beside it, and code in the kind's package marker
    // (of the consumer, which answers without a stream).
    write_file(&root, "consumers/log_sink/legacy.pyc", "");
    write_file(&root, "consumers/__init__.py", "SETTING = 1\n");
    let warnings = [
        "warning: `consumers/log_sink/legacy.pyc` is left out: compiled bytecode is never \
         packaged; put its source `.py` there instead",
        "warning: the code in `consumers/__init__.py` is not in the zip: there, \
         `consumers/__init__.py` only re-exports `log_sink`; move that code to `utils/`",
    ];
    let built = build_sh(&root, &["--local", "log_sink", "./consumers/log_sink"], &[]);
    let invoked = run(&root, &["invoke", "consumers", "log_sink"]);
    for out in [built, invoked] {
        assert!(out.status.success(), "{}", stderr(&out));
        for warning in warnings {
            assert!(stderr(&out).contains(warning), "{}", stderr(&out));
        }
    }
}

/// Under the real runtime client, the example handlers follow the function's
/// settings: logs come out as JSON at the configured level, and a producer
/// whose stream is not configured fails, naming the variable.
#[test]
fn the_examples_follow_lambdas_log_settings_and_a_producer_without_its_stream_fails() {
    let (_dir, root) = project("svc", &[]);
    build_ok(&root, &["--all", "--local"], &[]);
    let sink = root.join("target/log_sink.zip");
    let kinesis = root.join("test/fixtures/kinesis_event.json");
    let json_info = [
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
    ];
    let answer = run_zip_with(&sink, "consumers.log_sink", &kinesis, &json_info);
    assert_eq!(answer["outcome"], "response", "{answer}");
    let records: Vec<serde_json::Value> = answer["log"]
        .as_str()
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    assert_eq!(records.len(), 2, "{answer}");
    assert_eq!(records[0]["level"], "INFO");
    assert_eq!(records[0]["logger"], "consumers.log_sink.consumers");
    assert!(
        records[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("record: "),
        "{answer}"
    );

    let json_error = [
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_LAMBDA_LOG_LEVEL", "ERROR"),
    ];
    let answer = run_zip_with(&sink, "consumers.log_sink", &kinesis, &json_error);
    assert_eq!(answer["outcome"], "response", "{answer}");
    assert!(
        !answer["log"].as_str().unwrap().contains("record: "),
        "{answer}"
    );

    let answer = run_zip_with(
        &root.join("target/log_event.zip"),
        "producers.log_event",
        &root.join("test/fixtures/eventbridge_event.json"),
        &[("AWS_LAMBDA_FUNCTION_NAME", "log_event")],
    );
    assert_eq!(answer["outcome"], "error", "{answer}");
    assert_eq!(
        answer["result"]["errorMessage"],
        "environment variable STREAM_NAME is not set: set it to the Kinesis stream this \
         function publishes to"
    );
}

#[test]
fn every_zip_reports_its_sizes_one_over_lambdas_limits_is_refused_or_sent_through_s3() {
    // The limits are lowered for the test (LAMBDA_SCAFFOLD_TEST_MAX_*): 250 MB
    // of wheels would make it slow. Pairwise: bundle and layer mode.
    for mode in ["bundle", "layer"] {
        let (dir, root) = project("svc", &[]);
        add_setting(&root, &format!("dependencies = \"{mode}\""));
        let big = format!("DATA = \"{}\"\n", "x".repeat(100_000));
        let packages = [("lsdemo_big", big.as_str()), ("lsdemo_small", "X = 1\n")];
        let extra = lock_wheels(dir.path(), &root, &packages);
        let pip = ("PIP_EXTRA_ARGS", extra.as_str());
        build_ok(&root, &["--all", "--local"], &[pip]);
        let again = build_ok(&root, &["--all", "--local"], &[pip]);
        for line in again.lines() {
            let sizes = line.split("  ").nth(1).unwrap_or_default();
            assert!(
                sizes.ends_with(" MB unzipped") && sizes.contains(" MB zipped, "),
                "{mode}: {line}"
            );
        }

        // A function (with its layer) over the unzipped limit: refused, naming
        // the largest package, and target/ stays as it was.
        let module = root.join("producers/log_event/producers.py");
        let mut code = fs::read_to_string(&module).unwrap();
        code.push_str("\n# changed\n");
        fs::write(&module, code).unwrap();
        let before = snapshot(&root.join("target"));
        let limit = ("LAMBDA_SCAFFOLD_TEST_MAX_UNZIPPED", "80000");
        let out = build_sh(&root, &["--all", "--local"], &[pip, limit]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{mode}: {err}");
        let with = if mode == "layer" {
            " with its layer"
        } else {
            ""
        };
        assert!(
            err.contains("\nerror: `target/log_event.zip` would unzip to 0.")
                && err.contains(&format!(
                    " MB{with}, over Lambda's limit of 0.08 MB; the largest: `lsdemo_big` 0.10 MB, "
                ))
                && err.contains("\nhint: trim requirements.txt"),
            "{mode}: {err}"
        );
        assert_eq!(snapshot(&root.join("target")), before, "{mode}");

        // Over the zipped limit: built, and said to deploy through S3.
        let out = build_sh(
            &root,
            &["--all", "--local"],
            &[pip, ("LAMBDA_SCAFFOLD_TEST_MAX_ZIPPED", "100")],
        );
        assert!(out.status.success(), "{mode}: {}", stderr(&out));
        let err = stderr(&out);
        let warning = err
            .lines()
            .find(|l| l.starts_with("warning: `target/log_event.zip` is "))
            .unwrap_or_default();
        assert!(
            warning.ends_with(
                " MB zipped, over the 0.00 MB Lambda takes in a direct upload: it is \
                 deployed through S3 (`sam deploy` uploads it to its bucket; \
                 `./deploy.sh --code-only` needs DEPLOY_BUCKET)"
            ),
            "{mode}: {err}"
        );
    }
}

/// The names of `zip`'s entries that are compiled bytecode, and the flags
/// word of each (1: hash-based, not checked against the source).
fn bytecode_flags(zip: &Path) -> Vec<(String, u32)> {
    let out = Command::new(python())
        .args([
            "-c",
            "import sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             for n in z.namelist():\n\
             \x20   if n.endswith('.pyc'):\n\
             \x20       print(n, int.from_bytes(z.read(n)[4:8], 'little'))",
        ])
        .arg(zip)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| {
            let (name, flags) = l.rsplit_once(' ').unwrap();
            (name.to_string(), flags.parse().unwrap())
        })
        .collect()
}

#[test]
fn bytecode_is_compiled_deterministically_by_the_runtimes_python_only() {
    let host = host_python_version();
    let tag = format!("cpython-{}", host.replace('.', ""));
    let (dir, root) = project("svc", &["--python", &host]);
    let extra = lock_wheels(dir.path(), &root, &[("lsdemo_dep", "X = 1\n")]);
    let pip = ("PIP_EXTRA_ARGS", extra.as_str());
    let zip = root.join("target/log_event.zip");
    // The default: the dependencies' and the code's .pyc files, unchecked
    // hash-based, the same bytes from a serial and a parallel clean build.
    let mut builds = Vec::new();
    for jobs in ["1", "4"] {
        fs::remove_dir_all(root.join("target")).ok();
        let out = build_sh(&root, &["--all", "--local", "--jobs", jobs], &[pip]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!stderr(&out).contains("bytecode"), "{}", stderr(&out));
        builds.push(fs::read(&zip).unwrap());
    }
    assert!(builds[0] == builds[1], "bytecode differs between builds");
    let compiled = bytecode_flags(&zip);
    for name in [
        format!("producers/log_event/__pycache__/producers.{tag}.pyc"),
        format!("utils/__pycache__/__init__.{tag}.pyc"),
        format!("lsdemo_dep/__pycache__/__init__.{tag}.pyc"),
    ] {
        assert!(
            compiled.contains(&(name.clone(), 1)),
            "{name}: {compiled:?}"
        );
    }
    let event = root.join("test/fixtures/eventbridge_event.json");
    run_from_zip(&zip, "producers.log_event", &event);

    // `bytecode = false`: sources only.
    add_setting(&root, "bytecode = false");
    build_ok(&root, &["--all", "--local"], &[pip]);
    assert_eq!(bytecode_flags(&zip), []);

    // Another runtime's python: no bytecode, and a warning that says why.
    let other = if host == "3.13" { "3.12" } else { "3.13" };
    let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    let manifest = manifest.replace("bytecode = false\n", "").replace(
        &format!("python = \"{host}\""),
        &format!("python = \"{other}\""),
    );
    fs::write(root.join("lambdas.toml"), manifest).unwrap();
    lock_from(&root, &dir.path().join("wheels"));
    let out = build_sh(&root, &["--all", "--local"], &[pip]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "warning: the zips hold no bytecode: .pyc files are per Python version, \
             and this is python{host}, not Lambda's python{other}; "
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(bytecode_flags(&zip), []);

    // A setting that is not a boolean is refused before anything is built.
    for (value, message) in [
        ("\"true\"", "`bytecode` is written as a string"),
        ("yes", "`bytecode` is neither `true` nor `false`"),
    ] {
        let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
        add_setting(&root, &format!("bytecode = {value}"));
        let before = snapshot(&root);
        let out = build_sh(&root, &["--all", "--local"], &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
        assert_eq!(snapshot(&root), before);
        fs::write(root.join("lambdas.toml"), manifest).unwrap();
    }
}
