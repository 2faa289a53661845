//! `invoke`, end to end: each example handler answers as on Lambda, imports
//! resolve as they do from the zip (and fail where they would fail there), the
//! context and timeout are Lambda's, and the project is never written to.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// Runs `invoke ARGS` expecting success; returns the JSON answer on stdout.
fn answer(cwd: &Path, args: &[&str]) -> Value {
    let mut all = vec!["invoke"];
    all.extend_from_slice(args);
    let out = ok(cwd, &all);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{all:?}: stdout is not JSON ({e}):\n{}", stdout(&out)))
}

/// Runs `invoke ARGS` expecting exit 1 with `message` on stderr; returns stderr.
fn invoke_fails(cwd: &Path, args: &[&str], message: &str) -> String {
    let mut all = vec!["invoke"];
    all.extend_from_slice(args);
    let out = run(cwd, &all);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{all:?}: {err}");
    assert!(
        err.contains(message),
        "{all:?}: expected `{message}` in:\n{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn with_stdin(cwd: &Path, args: &[&str], input: &str) -> Output {
    output_with_stdin(scaffold(cwd).args(args), input.as_bytes())
}

#[test]
fn every_example_handler_answers_the_expected_json_and_nothing_is_written() {
    let (_dir, root) = project("svc", &[]);
    let before = snapshot(&root);
    let record = answer(&root, &["producers", "log_event"]);
    assert_eq!(
        record["PartitionKey"],
        "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
    );
    let data: Value = serde_json::from_str(record["Data"].as_str().unwrap()).unwrap();
    assert_eq!(
        data,
        json!({
            "type": "log_event",
            "source": "com.example.app",
            "detail": {"level": "error", "message": "oh no!"},
        })
    );
    assert_eq!(
        answer(&root, &["consumers", "log_sink"]),
        json!({"batchItemFailures": []})
    );
    assert_eq!(snapshot(&root), before, "no bytecode, no files");

    let (_dir, web) = project("site", &["--layout", "web-stack"]);
    let response = answer(&web, &["handler", "index"]);
    assert_eq!(response["statusCode"], 200);
    assert_eq!(response["headers"]["Content-Type"], "application/json");
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"message": "hello, lambda"}));
}

#[test]
fn the_event_comes_from_a_file_or_standard_input() {
    let (dir, root) = project("site", &["--layout", "web-stack"]);
    let event = dir.path().join("event.json");
    fs::write(&event, r#"{"queryStringParameters": {"name": "file"}}"#).unwrap();
    let response = answer(
        &root,
        &["handlers", "index", "--event", event.to_str().unwrap()],
    );
    assert_eq!(response["body"], r#"{"message": "hello, file"}"#);

    let out = with_stdin(
        &root,
        &["invoke", "handlers", "index", "--event", "-"],
        r#"{"queryStringParameters": {"name": "stdin"}}"#,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let response: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(response["body"], r#"{"message": "hello, stdin"}"#);
}

#[test]
fn a_handler_that_raises_exits_1_with_the_traceback() {
    let (_dir, root) = project("svc", &[]);
    ok(&root, &["add-handler", "producers", "fails"]);
    write(
        &root,
        "producers/fails/producers.py",
        "def check(event):\n    raise ValueError(\"no detail in \" + event[\"id\"])\n\n\n\
         def fails(event, context):\n    return check(event)\n",
    );
    let err = invoke_fails(
        &root,
        &["producers", "fails"],
        "error: handler `producers.fails` raised an exception (traceback above)",
    );
    assert!(err.contains("Traceback (most recent call last):"), "{err}");
    assert!(err.contains("producers.py\", line 2, in check"), "{err}");
    assert!(
        err.contains("ValueError: no detail in 6a7e8feb-b491-4cf7-a9f1-bf3703467718"),
        "{err}"
    );
    assert!(
        !err.contains("<string>"),
        "the runner's own frames are left out:\n{err}"
    );
}

#[test]
fn a_handler_that_calls_sys_exit_fails_like_one_that_raises() {
    let (_dir, root) = project("svc", &[]);
    ok(&root, &["add-handler", "producers", "quits"]);
    write(
        &root,
        "producers/quits/producers.py",
        "import sys\n\n\ndef quits(event, context):\n    sys.exit(12)\n",
    );
    invoke_fails(
        &root,
        &["producers", "quits"],
        "error: handler `producers.quits` raised an exception (traceback above)",
    );
}

#[test]
fn the_projects_utils_wins_over_an_installed_one() {
    let (dir, root) = project("svc", &[]);
    write(&root, "utils/__init__.py", "WHERE = \"project\"\n");
    let site = dir.path().join("site");
    fs::create_dir_all(site.join("utils")).unwrap();
    fs::write(site.join("utils/__init__.py"), "WHERE = \"site\"\n").unwrap();
    ok(&root, &["add-handler", "producers", "where"]);
    write(
        &root,
        "producers/where/producers.py",
        "from utils import WHERE\n\n\ndef where(event, context):\n    return WHERE\n",
    );
    let out = scaffold(&root)
        .args(["invoke", "producers", "where"])
        .env("PYTHONPATH", &site)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "\"project\"");
}

#[test]
fn a_handler_importing_through_its_package_path_fails_as_it_would_on_lambda() {
    let (_dir, root) = project("svc", &[]);
    write(
        &root,
        "producers/log_event/helpers.py",
        "def answer():\n    return 42\n",
    );
    write(
        &root,
        "producers/log_event/producers.py",
        "from producers.log_event import helpers\n\n\n\
         def log_event(event, context):\n    return helpers.answer()\n",
    );
    // It imports fine as a package, as the tests import it...
    let python = tool("python3").expect("python3");
    let imported = std::process::Command::new(python)
        .args(["-c", "import producers.log_event.producers"])
        .current_dir(&root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .status()
        .unwrap();
    assert!(imported.success());
    // ...but not from the zip, whose root is the handler folder.
    let err = invoke_fails(
        &root,
        &["producers", "log_event"],
        "error: module `producers` cannot be imported from `producers/log_event` as Lambda imports it",
    );
    assert!(err.contains("'producers' is not a package"), "{err}");
    assert!(err.contains("hint: "), "{err}");

    write(
        &root,
        "producers/log_event/producers.py",
        "import helpers\n\n\ndef log_event(event, context):\n    return helpers.answer()\n",
    );
    assert_eq!(answer(&root, &["producers", "log_event"]), json!(42));
}

#[test]
fn shared_utils_import_but_the_rest_of_the_project_does_not() {
    let (_dir, root) = project("svc", &[]);
    write(
        &root,
        "utils/text.py",
        "def shout(s):\n    return s.upper()\n",
    );
    write(
        &root,
        "producers/log_event/producers.py",
        "from utils.text import shout\n\n\n\
         def log_event(event, context):\n    return shout(event[\"detail\"][\"message\"])\n",
    );
    assert_eq!(answer(&root, &["producers", "log_event"]), json!("OH NO!"));

    write(
        &root,
        "producers/log_event/producers.py",
        "from consumers.log_sink.consumers import decode_records\n\n\n\
         def log_event(event, context):\n    return decode_records(event)\n",
    );
    invoke_fails(
        &root,
        &["producers", "log_event"],
        "No module named 'consumers'",
    );
}

#[test]
fn the_context_carries_the_attributes_of_the_lambda_runtime() {
    let (_dir, root) = project("svc", &["--bare"]);
    ok(&root, &["add-handler", "producers", "introspect"]);
    write(
        &root,
        "producers/introspect/producers.py",
        "import os\n\n\ndef introspect(event, context):\n    return {\n\
         \x20       \"request_id\": context.aws_request_id,\n\
         \x20       \"function_name\": context.function_name,\n\
         \x20       \"function_version\": context.function_version,\n\
         \x20       \"arn\": context.invoked_function_arn,\n\
         \x20       \"memory\": context.memory_limit_in_mb,\n\
         \x20       \"log_group\": context.log_group_name,\n\
         \x20       \"log_stream\": context.log_stream_name,\n\
         \x20       \"remaining\": context.get_remaining_time_in_millis(),\n\
         \x20       \"cwd\": os.getcwd(),\n\
         \x20       \"handler_env\": os.environ[\"_HANDLER\"],\n\
         \x20   }\n",
    );
    let seen = answer(&root, &["producers", "introspect", "--timeout", "7"]);
    assert_eq!(seen["request_id"].as_str().unwrap().len(), 36);
    assert_eq!(seen["function_name"], "introspect");
    assert_eq!(seen["function_version"], "$LATEST");
    let arn = seen["arn"].as_str().unwrap();
    assert!(
        arn.starts_with("arn:aws:lambda:") && arn.ends_with(":function:introspect"),
        "{arn}"
    );
    assert_eq!(seen["memory"], "128");
    assert_eq!(seen["log_group"], "/aws/lambda/introspect");
    assert!(seen["log_stream"].as_str().unwrap().contains("/[$LATEST]"));
    let remaining = seen["remaining"].as_u64().unwrap();
    assert!(remaining > 5000 && remaining <= 7000, "{remaining}");
    assert_eq!(
        Path::new(seen["cwd"].as_str().unwrap()),
        root.join("producers/introspect").canonicalize().unwrap()
    );
    assert_eq!(seen["handler_env"], "producers.introspect");
}

#[test]
fn what_the_handler_prints_goes_to_stderr_and_only_the_answer_to_stdout() {
    let (_dir, root) = project("svc", &[]);
    write(
        &root,
        "producers/log_event/producers.py",
        "import logging\n\n\ndef log_event(event, context):\n    print(\"hello from print\")\n\
         \x20   logging.getLogger().warning(\"careful\")\n    return [1, None, \"x\"]\n",
    );
    let out = ok(&root, &["invoke", "producers", "log_event"]);
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value, json!([1, null, "x"]));
    let err = stderr(&out);
    assert!(err.contains("hello from print"), "{err}");
    assert!(
        err.contains("[WARNING]\t"),
        "logs in the Lambda format:\n{err}"
    );
}

#[test]
fn a_handler_that_runs_too_long_is_killed_at_its_timeout() {
    let (_dir, root) = project("svc", &[]);
    write(
        &root,
        "producers/log_event/producers.py",
        "import time\n\n\ndef log_event(event, context):\n    time.sleep(60)\n",
    );
    let started = Instant::now();
    let err = invoke_fails(
        &root,
        &["producers", "log_event", "--timeout", "1"],
        "error: handler `producers.log_event` timed out after 1 second\nhint: pass --timeout",
    );
    assert!(started.elapsed() < Duration::from_secs(20), "{err}");
    assert!(err.contains("Task timed out after 1.00 seconds"), "{err}");
    for bad in ["0", "901", "soon"] {
        let out = run(
            &root,
            &["invoke", "producers", "log_event", "--timeout", bad],
        );
        assert_eq!(out.status.code(), Some(2), "--timeout {bad}");
    }
}

#[test]
fn answers_that_are_not_json_and_missing_functions_are_explained() {
    let (_dir, root) = project("svc", &[]);
    write(
        &root,
        "producers/log_event/producers.py",
        "def log_event(event, context):\n    return {1, 2}\n",
    );
    invoke_fails(
        &root,
        &["producers", "log_event"],
        "error: the answer of handler `producers.log_event` is not JSON-serializable",
    );
    write(
        &root,
        "producers/log_event/producers.py",
        "def log_events(event, context):\n    return 1\n",
    );
    invoke_fails(
        &root,
        &["producers", "log_event"],
        "error: module `producers/log_event/producers.py` defines no function `log_event`",
    );
}

#[test]
fn works_from_a_subfolder_and_with_the_project_flag() {
    let (dir, root) = project("svc", &[]);
    let deep = answer(&root.join("test/producers"), &["producer", "LogEvent"]);
    let outside = answer(dir.path(), &["producers", "log_event", "--project", "svc"]);
    assert_eq!(deep, outside);
}

#[test]
fn bad_input_is_refused_before_python_runs() {
    let (dir, root) = project("svc", &[]);
    invoke_fails(
        &root,
        &["producers", "nothing_here"],
        "error: handler `producers/nothing_here` has no module `producers/nothing_here/producers.py`",
    );
    fs::write(dir.path().join("bad.json"), "{\"id\": ").unwrap();
    invoke_fails(
        &root,
        &[
            "producers",
            "log_event",
            "--event",
            dir.path().join("bad.json").to_str().unwrap(),
        ],
        "is not valid JSON",
    );
    invoke_fails(
        &root,
        &["producers", "log_event", "--event", "missing.json"],
        "error: cannot read event file `missing.json`",
    );
    fs::remove_file(root.join("test/fixtures/kinesis_event.json")).unwrap();
    invoke_fails(
        &root,
        &["consumers", "log_sink"],
        "error: sample event `test/fixtures/kinesis_event.json` is missing\nhint: pass an event with --event FILE",
    );
    invoke_fails(
        &root,
        &["handlers", "index"],
        "kind `handlers` is not part of a log-centric project",
    );
}

#[test]
fn a_missing_python3_gives_a_clear_error() {
    let (_dir, root) = project("svc", &[]);
    let empty = tempfile::tempdir().unwrap();
    let out = scaffold(&root)
        .args(["invoke", "producers", "log_event"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: `python3` was not found\nhint: install Python 3 (this project's Lambda runtime \
         is python3.13) and put `python3` on PATH\n"
    );
}

#[test]
fn the_embedded_runner_is_ruff_clean() {
    let Some(ruff) = tool("ruff") else { return };
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/invoke_runner.py");
    for args in [
        &["check", "--no-cache", "--isolated"][..],
        &["format", "--no-cache", "--isolated", "--check"],
    ] {
        let out = std::process::Command::new(&ruff)
            .args(args)
            .arg(&runner)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ruff {args:?}:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
    }
}
