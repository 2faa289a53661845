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

fn with_stdin(cwd: &Path, args: &[&str], input: &str) -> Output {
    output_with_stdin(scaffold(cwd).args(args), input.as_bytes())
}

#[test]
fn every_example_handler_answers_as_on_lambda_and_nothing_is_written() {
    let (_dir, root) = project("svc", &[]);
    let before = snapshot(&root);
    // Run as on Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set), a producer whose
    // stream is not configured fails, naming the variable to set.
    invoke_fails(
        &root,
        &["producers", "log_event"],
        "RuntimeError: environment variable STREAM_NAME is not set",
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
    assert_eq!(body, json!({"received": {"test": "body"}}));
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
    write_file(
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
    write_file(
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
    write_file(&root, "utils/__init__.py", "WHERE = \"project\"\n");
    let site = dir.path().join("site");
    fs::create_dir_all(site.join("utils")).unwrap();
    fs::write(site.join("utils/__init__.py"), "WHERE = \"site\"\n").unwrap();
    ok(&root, &["add-handler", "producers", "where"]);
    write_file(
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
fn helpers_import_by_package_path_as_in_the_tests_and_a_bare_import_fails_as_on_lambda() {
    let (_dir, root) = project("svc", &[]);
    write_file(
        &root,
        "producers/log_event/helpers.py",
        "def answer():\n    return 42\n",
    );
    write_file(&root, "producers/log_event/rules/__init__.py", "");
    write_file(&root, "producers/log_event/rules/limits.py", "LIMIT = 7\n");
    write_file(
        &root,
        "producers/log_event/producers.py",
        "from producers.log_event.helpers import answer\n\
         from producers.log_event.rules import limits\n\n\
         from .helpers import answer as same\n\n\n\
         def log_event(event, context):\n    return [answer(), limits.LIMIT, same()]\n",
    );
    assert_eq!(
        answer(&root, &["producers", "log_event"]),
        json!([42, 7, 42])
    );
    // The same lines pass in the tests.
    write_file(
        &root,
        "test/producers/log_event/test_producers.py",
        "import unittest\n\nfrom producers.log_event.producers import log_event\n\n\n\
         class LogEventTest(unittest.TestCase):\n    def test_answers(self):\n\
         \x20       self.assertEqual(log_event({}, None), [42, 7, 42])\n",
    );
    python_unittest(&root);

    // A bare import finds nothing, in the tests as in Lambda: said with a hint.
    write_file(
        &root,
        "producers/log_event/producers.py",
        "import helpers\n\n\ndef log_event(event, context):\n    return helpers.answer()\n",
    );
    let err = invoke_fails(
        &root,
        &["producers", "log_event"],
        "error: module `producers` cannot be imported as Lambda imports it from the zip \
         (traceback above): ModuleNotFoundError: No module named 'helpers'",
    );
    assert!(
        err.contains(
            "hint: import the handler's helpers by package path, as its tests do: \
             `from producers.log_event.helpers import x`"
        ),
        "{err}"
    );
    // check says so too, before anything runs.
    let out = run(&root, &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "producers/log_event/producers.py: imports `helpers` by its bare name, which finds \
             nothing in the tests, in invoke or in Lambda: import it by package path, \
             `from producers.log_event.helpers import ...`"
        ),
        "{}",
        stdout(&out)
    );
}

#[test]
fn shared_utils_import_but_the_rest_of_the_project_does_not() {
    let (_dir, root) = project("svc", &[]);
    write_file(
        &root,
        "utils/text.py",
        "def shout(s):\n    return s.upper()\n",
    );
    write_file(
        &root,
        "producers/log_event/producers.py",
        "from utils.text import shout\n\n\n\
         def log_event(event, context):\n    return shout(event[\"detail\"][\"message\"])\n",
    );
    assert_eq!(answer(&root, &["producers", "log_event"]), json!("OH NO!"));

    write_file(
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

/// A handler that answers with its context and Lambda's variables.
const INTROSPECT: &str = "import os\n\n\
    VARIABLES = [\n\
    \x20   \"AWS_REGION\", \"AWS_DEFAULT_REGION\", \"AWS_EXECUTION_ENV\", \"AWS_LAMBDA_FUNCTION_NAME\",\n\
    \x20   \"AWS_LAMBDA_FUNCTION_MEMORY_SIZE\", \"AWS_LAMBDA_FUNCTION_VERSION\",\n\
    \x20   \"AWS_LAMBDA_INITIALIZATION_TYPE\", \"AWS_LAMBDA_LOG_GROUP_NAME\",\n\
    \x20   \"AWS_LAMBDA_LOG_STREAM_NAME\", \"LAMBDA_TASK_ROOT\", \"TZ\", \"_HANDLER\",\n\
    \x20   \"STREAM_NAME\", \"GREETING\",\n\
    ]\n\n\n\
    def context_of(context):\n    return {\n\
    \x20       \"function_name\": context.function_name,\n\
    \x20       \"function_version\": context.function_version,\n\
    \x20       \"arn\": context.invoked_function_arn,\n\
    \x20       \"memory\": context.memory_limit_in_mb,\n\
    \x20       \"log_group\": context.log_group_name,\n\
    \x20       \"identity\": [context.identity.cognito_identity_id,\n\
    \x20                    context.identity.cognito_identity_pool_id],\n\
    \x20       \"client_context\": context.client_context,\n\
    \x20   }\n\n\n\
    def introspect(event, context):\n    return {\n\
    \x20       \"context\": context_of(context),\n\
    \x20       \"request_id\": context.aws_request_id,\n\
    \x20       \"log_stream\": context.log_stream_name,\n\
    \x20       \"remaining\": context.get_remaining_time_in_millis(),\n\
    \x20       \"cwd\": os.getcwd(),\n\
    \x20       \"env\": {name: os.environ.get(name) for name in VARIABLES},\n\
    \x20   }\n";

/// Runs `invoke producers introspect ARGS` with `env` on top of a caller
/// environment that names no region.
fn introspect(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Value {
    let mut cmd = scaffold(root);
    cmd.args(["invoke", "producers", "introspect"])
        .args(args)
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_context_and_variables_are_lambdas_and_the_same_as_in_the_tests() {
    let (_dir, root) = project("svc", &["--bare"]);
    ok(&root, &["add-handler", "producers", "introspect"]);
    write_file(&root, "producers/introspect/producers.py", INTROSPECT);
    let seen = introspect(&root, &["--timeout", "7"], &[]);
    let context = &seen["context"];
    assert_eq!(
        context,
        &json!({
            "function_name": "introspect",
            "function_version": "$LATEST",
            "arn": "arn:aws:lambda:us-east-1:123456789012:function:introspect",
            // The generated template's MemorySize, not Lambda's default.
            "memory": "256",
            "log_group": "/aws/lambda/introspect",
            "identity": [null, null],
            "client_context": null,
        })
    );
    assert_eq!(seen["request_id"].as_str().unwrap().len(), 36);
    let remaining = seen["remaining"].as_u64().unwrap();
    assert!(remaining > 5000 && remaining <= 7000, "{remaining}");
    let env = &seen["env"];
    let task_root = Path::new(seen["cwd"].as_str().unwrap());
    assert!(
        !task_root.starts_with(&root) && !task_root.exists(),
        "the task root is a staged copy, removed afterwards: {}",
        task_root.display()
    );
    assert_eq!(env["LAMBDA_TASK_ROOT"], seen["cwd"]);
    assert_eq!(env["AWS_LAMBDA_LOG_STREAM_NAME"], seen["log_stream"]);
    for (name, value) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_python3.13"),
        ("AWS_LAMBDA_FUNCTION_NAME", "introspect"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/introspect"),
        ("TZ", ":UTC"),
        ("_HANDLER", "producers.introspect"),
    ] {
        assert_eq!(env[name], value, "{name}");
    }

    // The project's tests build the same context from the same definition,
    // given the function's memory (their default is Lambda's, 128 MB).
    let python = tool("python3").expect("python3");
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import json\n\
             from producers.introspect.producers import context_of\n\
             from test.lambda_context import FakeLambdaContext\n\
             context = FakeLambdaContext('introspect', memory_limit_in_mb=256)\n\
             print(json.dumps(context_of(context)))",
        ])
        .current_dir(&root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let tested: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(&tested, context);

    // The caller's region is the function's, in the ARN too.
    let seen = introspect(&root, &[], &[("AWS_DEFAULT_REGION", "eu-central-1")]);
    assert_eq!(seen["env"]["AWS_REGION"], "eu-central-1");
    assert_eq!(
        seen["context"]["arn"],
        "arn:aws:lambda:eu-central-1:123456789012:function:introspect"
    );
}

#[test]
fn an_env_file_sets_the_functions_variables_and_a_malformed_one_is_refused() {
    let (dir, root) = project("svc", &["--bare"]);
    ok(&root, &["add-handler", "producers", "introspect"]);
    write_file(&root, "producers/introspect/producers.py", INTROSPECT);
    let file = dir.path().join("function.env");
    fs::write(
        &file,
        "# dev settings\nSTREAM_NAME=orders\nexport GREETING=\"hi there\"\n",
    )
    .unwrap();
    let seen = introspect(&root, &["--env-file", file.to_str().unwrap()], &[]);
    assert_eq!(seen["env"]["STREAM_NAME"], "orders");
    assert_eq!(seen["env"]["GREETING"], "hi there");

    let cases = [
        (
            Some("STREAM_NAME=orders\nnonsense\n"),
            "line 2 of env file `",
        ),
        (
            Some("AWS_REGION=eu-west-1\n"),
            "sets `AWS_REGION`, which Lambda reserves for itself",
        ),
        (
            Some("A=1\n"),
            "sets `A`, which is not a Lambda variable name",
        ),
        (
            Some("STREAM_NAME=a\nSTREAM_NAME=b\n"),
            "sets `STREAM_NAME` a second time",
        ),
        (None, "error: cannot read env file `"),
    ];
    for (text, message) in cases {
        let path = match text {
            Some(text) => {
                fs::write(&file, text).unwrap();
                file.clone()
            }
            None => dir.path().join("missing.env"),
        };
        let args = [
            "invoke",
            "producers",
            "introspect",
            "--env-file",
            path.to_str().unwrap(),
        ];
        assert_refused(&root, &root, &args, message);
    }
}

#[test]
fn what_the_handler_prints_goes_to_stderr_and_only_the_answer_to_stdout() {
    let (_dir, root) = project("svc", &[]);
    write_file(
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
    write_file(
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
    assert!(started.elapsed() < Duration::from_secs(6), "{err}");
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
    write_file(
        &root,
        "producers/log_event/producers.py",
        "def log_event(event, context):\n    return {1, 2}\n",
    );
    invoke_fails(
        &root,
        &["producers", "log_event"],
        "error: the answer of handler `producers.log_event` cannot be encoded as JSON, so \
         Lambda could not return it: TypeError: Object of type set is not JSON serializable",
    );
    write_file(
        &root,
        "producers/log_event/producers.py",
        "def log_events(event, context):\n    return 1\n",
    );
    // The packager refuses it, for the zip and for invoke alike.
    invoke_fails(
        &root,
        &["producers", "log_event"],
        "error: `producers/log_event/producers.py` defines no `log_event`, so the handler \
         `producers.log_event` would not resolve\nhint: ",
    );
    // Bound, but to something Lambda cannot call.
    write_file(&root, "producers/log_event/producers.py", "log_event = 1\n");
    invoke_fails(
        &root,
        &["producers", "log_event"],
        "error: module `producers/log_event/producers.py` defines no function `log_event`",
    );
}

#[test]
fn works_from_a_subfolder_and_with_the_project_flag() {
    let (dir, root) = project("svc", &[]);
    let deep = answer(&root.join("test/producers"), &["consumer", "LogSink"]);
    let outside = answer(dir.path(), &["consumers", "log_sink", "--project", "svc"]);
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
    let big = dir.path().join("big.json");
    fs::write(&big, format!("\"{}\"", "x".repeat(7 << 20))).unwrap();
    invoke_fails(
        &root,
        &["producers", "log_event", "--event", big.to_str().unwrap()],
        "is larger than 6291456 bytes, Lambda's limit for an invocation",
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

/// Makes `producers.log_event` run `body` (indented code) and return `answer`.
fn handler_doing(root: &Path, imports: &str, body: &str) {
    write_file(
        root,
        "producers/log_event/producers.py",
        &format!("{imports}\n\n\ndef log_event(event, context):\n{body}\n"),
    );
}

#[test]
fn a_handler_that_ends_its_own_process_gives_no_answer() {
    let (_dir, root) = project("svc", &[]);
    // 10 was once the runner's own status for "raised": no status means anything now.
    for code in ["0", "10"] {
        handler_doing(&root, "import os", &format!("    os._exit({code})"));
        let err = invoke_fails(
            &root,
            &["producers", "log_event"],
            &format!(
                "error: no answer came back from handler `producers.log_event`: its process \
                 ended (exit status {code}) before it returned\nhint: "
            ),
        );
        assert!(!err.contains("Traceback"), "{err}");
    }
}

#[test]
fn answers_holding_nan_or_infinity_are_refused_as_not_json() {
    let (_dir, root) = project("svc", &[]);
    for answer in [
        "float(\"nan\")",
        "{\"x\": [1, float(\"inf\")]}",
        "-float(\"inf\")",
    ] {
        handler_doing(&root, "import math", &format!("    return {answer}"));
        invoke_fails(
            &root,
            &["producers", "log_event"],
            "error: the answer of handler `producers.log_event` holds NaN or Infinity, which \
             JSON cannot hold\nhint: ",
        );
    }
}

#[test]
fn keyboard_interrupt_and_errors_while_encoding_the_answer_are_the_handlers_errors() {
    let (_dir, root) = project("svc", &[]);
    let raised = "error: handler `producers.log_event` raised an exception (traceback above): ";
    let unencodable = "error: the answer of handler `producers.log_event` cannot be encoded as \
                       JSON, so Lambda could not return it: ";
    let odd_dict = "class Odd(dict):\n    def items(self):\n        raise KeyboardInterrupt";
    let cases = [
        (
            "import os",
            "    raise KeyboardInterrupt",
            format!("{raised}KeyboardInterrupt"),
        ),
        (
            odd_dict,
            "    return Odd(a=1)",
            format!("{unencodable}KeyboardInterrupt"),
        ),
        (
            "import os",
            "    loop = []\n    loop.append(loop)\n    return loop",
            format!("{unencodable}ValueError: Circular reference detected"),
        ),
        (
            "import os",
            "    deep = []\n    for _ in range(100000):\n        deep = [deep]\n    return deep",
            format!("{unencodable}RecursionError"),
        ),
    ];
    for (imports, body, message) in cases {
        handler_doing(&root, imports, body);
        let err = invoke_fails(&root, &["producers", "log_event"], &message);
        assert!(
            !err.contains("File \"<string>\"") && !err.contains("stopped with exit status"),
            "a runner crash, not the handler's error:\n{err}"
        );
    }
}

/// Runs `invoke producers log_event --timeout 1 --event EVENT`, expecting
/// `message` within `seconds`.
fn fails_within_seconds(root: &Path, event: &Path, message: &str, seconds: u64) {
    let started = Instant::now();
    let event = event.to_str().unwrap();
    let args = ["producers", "log_event", "--timeout", "1", "--event", event];
    invoke_fails(root, &args, message);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(seconds), "took {took:?}");
}

#[test]
fn a_timed_out_handler_holding_the_interpreter_is_ended_on_time_with_its_child_processes() {
    let (dir, root) = project("svc", &[]);
    // One long call in C: no other Python thread runs meanwhile.
    handler_with_a_child(&root, "    return sum(range(10**13))");
    let (pidfile, event) = pid_event(dir.path());
    // Timed from the call: not the 10 s of the import's allowance on top.
    fails_within_seconds(
        &root,
        &event,
        "error: handler `producers.log_event` timed out after 1 second\n",
        6,
    );
    assert_process_ends(&fs::read_to_string(&pidfile).unwrap());
}

/// Asserts that the process `pid` is gone (or a zombie) within 5 s.
fn assert_process_ends(pid: &str) {
    let stat = Path::new("/proc").join(pid.trim()).join("stat");
    let deadline = Instant::now() + Duration::from_secs(5);
    let alive = || {
        fs::read_to_string(&stat)
            .map(|s| !s.rsplit(") ").next().unwrap_or("").starts_with('Z'))
            .unwrap_or(false)
    };
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(), "the handler's child process {pid} still runs");
}

/// A handler that starts `sleep 60`, writes its pid to the event's
/// `pidfile`, then does `rest`.
fn handler_with_a_child(root: &Path, rest: &str) {
    handler_doing(
        root,
        "import subprocess\nimport time",
        &format!(
            "    child = subprocess.Popen([\"sleep\", \"60\"])\n\
             \x20   with open(event[\"pidfile\"], \"w\") as f:\n        f.write(str(child.pid))\n{rest}"
        ),
    );
}

/// An event naming the file `dir/pid` where the handler writes its child's pid.
fn pid_event(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let pidfile = dir.join("pid");
    let event = dir.join("event.json");
    fs::write(&event, json!({"pidfile": pidfile}).to_string()).unwrap();
    (pidfile, event)
}

#[test]
fn an_interrupted_invoke_ends_the_handler_and_its_child_processes() {
    use std::os::unix::process::ExitStatusExt;
    let (dir, root) = project("svc", &[]);
    handler_with_a_child(&root, "    time.sleep(60)");
    let (pidfile, event) = pid_event(dir.path());
    let mut invoke = scaffold(&root)
        .args([
            "invoke",
            "producers",
            "log_event",
            "--timeout",
            "60",
            "--event",
        ])
        .arg(&event)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let written = || {
        fs::read_to_string(&pidfile)
            .ok()
            .filter(|p| !p.trim().is_empty())
    };
    while written().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = written().expect("the handler started its child");
    // Ctrl-C reaches lambda-scaffold alone: the runner has a process group of its own.
    let sent = std::process::Command::new("kill")
        .args(["-INT", &invoke.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = invoke.wait().unwrap();
    assert_eq!(status.signal(), Some(2), "ended by SIGINT: {status}");
    assert_process_ends(&pid);
}

#[test]
fn an_event_fifo_waits_at_most_the_timeout_and_one_with_a_writer_is_read() {
    let (dir, root) = project("svc", &[]);
    let fifo = dir.path().join("event.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let before = snapshot(&root);
    fails_within_seconds(
        &root,
        &fifo,
        &format!(
            "error: no event came from `{}` within 1 s (the --timeout): it is not a regular \
                 file, and nothing wrote to it",
            fifo.display()
        ),
        5,
    );
    assert_eq!(snapshot(&root), before);

    // As with `--event <(cat event.json)`: a writer comes, and the event is read.
    let writer = {
        let fifo = fifo.clone();
        let event = r#"{"Records": [{"kinesis": {"sequenceNumber": "from-a-pipe", "data": "x"}}]}"#;
        std::thread::spawn(move || fs::write(fifo, event).unwrap())
    };
    let answer = answer(
        &root,
        &["consumers", "log_sink", "--event", fifo.to_str().unwrap()],
    );
    writer.join().unwrap();
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "from-a-pipe"}]})
    );
}

/// `--arch` of this machine, where `invoke --zip` can run the zips.
fn host_arch() -> [&'static str; 2] {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "x86_64",
    };
    ["--arch", arch]
}

/// `./build.sh --all --local` in `root`, with the wheels of `wheels` when given.
fn build_all(root: &Path, wheels: Option<&Path>) {
    let extra = wheels.map(|w| format!("--no-index --find-links {}", w.display()));
    let envs: Vec<(&str, &str)> = extra
        .iter()
        .map(|e| ("PIP_EXTRA_ARGS", e.as_str()))
        .collect();
    common::build::build_ok(root, &["--all", "--local"], &envs);
}

#[test]
fn invoke_zip_answers_like_invoke_and_refuses_a_missing_or_stale_zip() {
    let (_dir, root) = project(
        "site",
        &["--layout", "web-stack", host_arch()[0], host_arch()[1]],
    );
    build_all(&root, None);
    let before = snapshot(&root);
    assert_eq!(
        answer(&root, &["handlers", "index", "--zip"]),
        answer(&root, &["handlers", "index"])
    );
    assert_eq!(
        snapshot(&root),
        before,
        "invoke --zip wrote into the project"
    );

    write_file(
        &root,
        "handlers/index/handlers.py",
        &fs::read_to_string(root.join("handlers/index/handlers.py"))
            .unwrap()
            .replace("hello", "bye"),
    );
    let err = assert_refused(
        &root,
        &root,
        &["invoke", "handlers", "index", "--zip"],
        "error: `target/index.zip` is older than its inputs",
    );
    assert!(
        err.contains("hint: build it again: `./build.sh --local index ./handlers/index`"),
        "{err}"
    );
    fs::remove_file(root.join("target/index.zip")).unwrap();
    let err = assert_refused(
        &root,
        &root,
        &["invoke", "handlers", "index", "--zip"],
        "error: `target/index.zip` is missing: `invoke --zip` runs the built zip",
    );
    assert!(
        err.contains("hint: build it first: `./build.sh --local index"),
        "{err}"
    );
}

#[test]
fn a_dependency_only_in_the_zip_is_importable_with_zip_bundled_or_in_the_layer() {
    let (dir, root) = project("svc", &host_arch());
    let wheels = dir.path().join("wheels");
    fs::create_dir(&wheels).unwrap();
    common::build::make_wheel(
        &wheels,
        &[
            "lsdemo_only",
            "1.0",
            "py3-none-any",
            "--init",
            "ANSWER = 42\n",
        ],
    );
    fs::write(root.join("requirements.txt"), "lsdemo_only\n").unwrap();
    common::build::hand_lock(&root, &wheels);
    ok(&root, &["add-handler", "producers", "uses_it"]);
    write_file(
        &root,
        "producers/uses_it/producers.py",
        "from lsdemo_only import ANSWER\n\n\ndef uses_it(event, context):\n    return ANSWER\n",
    );
    // Not installed on this machine: only the zip has it; the hint says how
    // a package gets into the zip and onto this machine.
    let err = invoke_fails(
        &root,
        &["producers", "uses_it"],
        "ModuleNotFoundError: No module named 'lsdemo_only'",
    );
    assert!(
        err.contains("goes in requirements.txt (and in the entry's `requirements`")
            && err.contains("-r requirements.lock`) or rebuild and run with `--zip`"),
        "{err}"
    );
    build_all(&root, Some(&wheels));
    assert_eq!(answer(&root, &["producers", "uses_it", "--zip"]), json!(42));

    common::build::add_setting(&root, "dependencies = \"layer\"");
    // The function's zip of the bundle mode is stale in layer mode.
    invoke_fails(
        &root,
        &["producers", "uses_it", "--zip"],
        "is older than its inputs",
    );
    build_all(&root, Some(&wheels));
    assert_eq!(answer(&root, &["producers", "uses_it", "--zip"]), json!(42));
    fs::remove_file(root.join("target/dependencies.zip")).unwrap();
    invoke_fails(
        &root,
        &["producers", "uses_it", "--zip"],
        "`target/dependencies.zip` is missing",
    );
}

#[test]
fn invoke_zip_needs_linux_of_the_lambdas_architecture() {
    let (_dir, root) = project("svc", &[]);
    let (other, machine) = match std::env::consts::ARCH {
        "x86_64" => ("arm64", "x86_64"),
        _ => ("x86_64", "aarch64"),
    };
    let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    let here = if other == "arm64" { "x86_64" } else { "arm64" };
    fs::write(
        root.join("lambdas.toml"),
        manifest.replace(
            &format!("arch = \"{here}\""),
            &format!("arch = \"{other}\""),
        ),
    )
    .unwrap();
    let err = assert_refused(
        &root,
        &root,
        &["invoke", "consumers", "log_sink", "--zip"],
        &format!(
            "error: `invoke --zip` runs the zip's files, whose native libraries are built for \
             Lambda's Linux {other}, and this machine is linux {machine}"
        ),
    );
    assert!(err.contains("or drop --zip"), "{err}");
}

/// Writes a zip at `path` (replacing it) with the members `(name, unix mode,
/// bytes)`.
fn hostile_zip(path: &Path, members: &[(&str, u32, &str)]) {
    let script = "import sys, zipfile\n\
        with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
        \x20   for name, mode, data in zip(*[iter(sys.argv[2:])] * 3):\n\
        \x20       info = zipfile.ZipInfo(name)\n\
        \x20       info.external_attr = int(mode, 8) << 16\n\
        \x20       z.writestr(info, data)\n";
    let mut command = std::process::Command::new("python3");
    command.args(["-c", script]).arg(path);
    for (name, mode, data) in members {
        command.args([*name, &format!("{mode:o}"), *data]);
    }
    assert!(command.status().unwrap().success());
}

#[test]
fn a_hostile_zip_is_refused_before_anything_is_extracted_or_run() {
    let (dir, root) = project("svc", &host_arch());
    build_all(&root, None);
    let zip = root.join("target/log_sink.zip");
    let ran = dir.path().join("ran");
    // A handler that would leave a mark if it ran.
    let handler = format!(
        "def log_sink(event, context):\n    open({:?}, 'w').close()\n",
        ran.to_str().unwrap()
    );
    let module = "consumers/log_sink/consumers.py";
    let escape = dir.path().join("escaped");
    let absolute = escape.to_str().unwrap();
    for (members, message) in [
        (
            vec![
                ("../../escaped", 0o100644, "x"),
                (module, 0o100644, &*handler),
            ],
            "member `../../escaped` leaves the folder it is extracted into".to_string(),
        ),
        (
            vec![(absolute, 0o100644, "x"), (module, 0o100644, &*handler)],
            format!("member `{absolute}` leaves the folder it is extracted into"),
        ),
        (
            vec![
                (module, 0o100644, &*handler),
                ("consumers/link", 0o120777, "/etc/passwd"),
            ],
            "member `consumers/link` is not a plain file or folder".to_string(),
        ),
        (
            vec![(module, 0o100644, &*handler), (module, 0o100644, &*handler)],
            format!("member `{module}` is in it twice"),
        ),
    ] {
        hostile_zip(&zip, &members);
        let err = assert_refused(
            &root,
            dir.path(),
            &["invoke", "consumers", "log_sink", "--zip"],
            &format!("error: `target/log_sink.zip` is not extracted: {message}"),
        );
        assert!(err.contains("a zip from elsewhere is never run"), "{err}");
        assert!(!escape.exists() && !ran.exists());
    }
    // The zip the build wrote, its module's deflated bytes made invalid (a
    // reserved block type), the same size: refused, never a traceback.
    build_all(&root, None);
    let mut bytes = fs::read(&zip).unwrap();
    let name = memchr::memmem::find(&bytes, module.as_bytes()).expect("a local header");
    let extra = usize::from(u16::from_le_bytes([bytes[name - 2], bytes[name - 1]]));
    bytes[name + module.len() + extra] |= 0b110;
    fs::write(&zip, bytes).unwrap();
    // Written after its stamp, the zip is not the one the build wrote.
    touch_later(&zip);
    assert_refused(
        &root,
        dir.path(),
        &["invoke", "consumers", "log_sink", "--zip"],
        "error: `target/log_sink.zip` is older than its inputs",
    );
    // A stamp touched after it vouches for it again: extracting it fails.
    touch_later(&root.join("target/log_sink.zip.inputs"));
    let err = assert_refused(
        &root,
        dir.path(),
        &["invoke", "consumers", "log_sink", "--zip"],
        "error: `target/log_sink.zip` is not extracted: it is not a readable zip",
    );
    assert!(!err.contains("Traceback"), "{err}");
    assert!(!ran.exists());
    // A member that says it unzips to 300 MB (its central directory entry's
    // size, which zipfile trusts and never writes past).
    hostile_zip(&zip, &[("big", 0o100644, "x")]);
    let mut bytes = fs::read(&zip).unwrap();
    let central = bytes
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("a central directory");
    bytes[central + 24..central + 28].copy_from_slice(&(300u32 << 20).to_le_bytes());
    fs::write(&zip, bytes).unwrap();
    for (contents, message) in [
        (
            None,
            "is not extracted: it unzips to more than Lambda's 262144000 bytes",
        ),
        (
            Some("not a zip"),
            "is not extracted: it is not a readable zip",
        ),
    ] {
        if let Some(contents) = contents {
            fs::write(&zip, contents).unwrap();
        }
        assert_refused(
            &root,
            dir.path(),
            &["invoke", "consumers", "log_sink", "--zip"],
            message,
        );
    }
}

#[test]
fn with_zip_this_machines_packages_are_hidden_but_what_lambdas_runtime_provides() {
    let (dir, root) = project("svc", &host_arch());
    // A user site (also on PYTHONPATH) standing for this machine's packages:
    // `six` is one the Lambda runtime provides (beside boto3), `hostonly` is
    // not.
    let base = dir.path().join("userbase");
    let out = std::process::Command::new("python3")
        .args(["-c", "import site; print(site.getusersitepackages())"])
        .env("PYTHONUSERBASE", &base)
        .output()
        .unwrap();
    let site = std::path::PathBuf::from(stdout(&out).trim());
    fs::create_dir_all(&site).unwrap();
    fs::write(site.join("six.py"), "WHERE = 'runtime'\n").unwrap();
    fs::write(site.join("hostonly.py"), "WHERE = 'host'\n").unwrap();
    ok(&root, &["add-handler", "producers", "uses_host"]);
    write_file(
        &root,
        "producers/uses_host/producers.py",
        "import importlib\n\n\ndef uses_host(event, context):\n    \
         return importlib.import_module(event['module']).WHERE\n",
    );
    build_all(&root, None);
    let event = dir.path().join("event.json");
    let invoke = |module: &str, zip: bool| {
        fs::write(&event, format!("{{\"module\": \"{module}\"}}")).unwrap();
        let mut args = vec!["invoke", "producers", "uses_host", "--event"];
        args.push(event.to_str().unwrap());
        if zip {
            args.push("--zip");
        }
        scaffold(&root)
            .args(&args)
            .env("PYTHONUSERBASE", &base)
            .env("PYTHONPATH", &site)
            .output()
            .unwrap()
    };
    for (module, zip, answer) in [
        ("hostonly", false, Some("host")),
        ("hostonly", true, None),
        ("six", true, Some("runtime")),
    ] {
        let out = invoke(module, zip);
        match answer {
            Some(answer) => {
                assert!(out.status.success(), "{module} {zip}: {}", stderr(&out));
                assert_eq!(stdout(&out).trim(), format!("\"{answer}\""));
            }
            None => assert!(
                stderr(&out).contains("ModuleNotFoundError: No module named 'hostonly'"),
                "{}",
                stderr(&out)
            ),
        }
    }
}

#[test]
fn without_timeout_the_handler_gets_the_timeout_its_function_has_in_the_template() {
    let (_dir, root) = project("svc", &["--bare"]);
    ok(&root, &["add-handler", "producers", "introspect"]);
    write_file(&root, "producers/introspect/producers.py", INTROSPECT);
    let remaining = |args: &[&str]| introspect(&root, args, &[])["remaining"].as_u64().unwrap();
    let template = fs::read_to_string(root.join("template.yaml")).unwrap();
    let globals = "    Timeout: 30\n";
    assert!(template.contains(globals), "{template}");
    // The generated template's Globals give every function 30 s.
    let seconds = remaining(&[]);
    assert!(seconds > 25_000 && seconds <= 30_000, "{seconds}");
    // The function's own Timeout wins; --timeout wins over both.
    let handler = "      Handler: producers.introspect\n";
    let own = template.replacen(handler, &format!("{handler}      Timeout: 12\n"), 1);
    fs::write(root.join("template.yaml"), &own).unwrap();
    let seconds = remaining(&[]);
    assert!(seconds > 10_000 && seconds <= 12_000, "{seconds}");
    let seconds = remaining(&["--timeout", "5"]);
    assert!(seconds > 3_000 && seconds <= 5_000, "{seconds}");
    // Neither sets one: Lambda's default, 3 s.
    fs::write(
        root.join("template.yaml"),
        template.replacen(globals, "", 1),
    )
    .unwrap();
    let seconds = remaining(&[]);
    assert!(seconds > 1_000 && seconds <= 3_000, "{seconds}");
    // Not said plainly, or no template: the generated template's 30 s.
    let unclear = template.replacen(
        handler,
        &format!("{handler}      Timeout: !Ref Seconds\n"),
        1,
    );
    fs::write(root.join("template.yaml"), unclear).unwrap();
    let seconds = remaining(&[]);
    assert!(seconds > 25_000 && seconds <= 30_000, "{seconds}");
    fs::remove_file(root.join("template.yaml")).unwrap();
    let seconds = remaining(&[]);
    assert!(seconds > 25_000 && seconds <= 30_000, "{seconds}");
}

#[test]
fn the_context_and_environment_report_the_memory_the_function_has_in_the_template() {
    let (_dir, root) = project("svc", &["--bare"]);
    ok(&root, &["add-handler", "producers", "introspect"]);
    write_file(&root, "producers/introspect/producers.py", INTROSPECT);
    let memory = || {
        let answer = introspect(&root, &[], &[]);
        let reported = answer["context"]["memory"].as_str().unwrap().to_string();
        let variable = &answer["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"];
        assert_eq!(variable.as_str(), Some(reported.as_str()), "{answer}");
        reported
    };
    let template = fs::read_to_string(root.join("template.yaml")).unwrap();
    let globals = "    MemorySize: 256\n";
    assert!(template.contains(globals), "{template}");
    // The generated template's Globals, then the function's own MemorySize.
    assert_eq!(memory(), "256");
    let handler = "      Handler: producers.introspect\n";
    let own = template.replacen(handler, &format!("{handler}      MemorySize: 1024\n"), 1);
    fs::write(root.join("template.yaml"), own).unwrap();
    assert_eq!(memory(), "1024");
    // Neither sets one: Lambda's default, 128 MB.
    fs::write(
        root.join("template.yaml"),
        template.replacen(globals, "", 1),
    )
    .unwrap();
    assert_eq!(memory(), "128");
    // Not said plainly, or more than Lambda allows: the generated template's.
    let unclear = template.replacen(handler, &format!("{handler}      MemorySize: 20000\n"), 1);
    fs::write(root.join("template.yaml"), unclear).unwrap();
    assert_eq!(memory(), "256");
}
