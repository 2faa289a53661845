//! `add-handler --event SOURCE`: one project holds a handler of every source,
//! and for each the generated tests pass, `invoke` answers its own sample
//! event, the batch sources report exactly the poison record of a mixed batch,
//! and the zip answers the same event under the Lambda runtime client. The
//! manifest records the source, `list` shows it and `check` names an unknown one.
//! (The Python tools' lint of every source's stub runs in tests/lint.rs.)

mod common;

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

use common::build::*;
use common::*;

/// The consumer written for `source`: `on_http_api`.
fn handler_name(source: &str) -> String {
    format!("on_{}", source.replace('-', "_"))
}

/// A bare log-centric project with one consumer of every source.
fn project_with_every_source() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, root) = project("svc", &["--bare"]);
    for source in EVENT_SOURCES {
        ok(
            &root,
            &[
                "add-handler",
                "consumers",
                &handler_name(source),
                "--event",
                source,
            ],
        );
    }
    (dir, root)
}

fn invoke_json(root: &Path, args: &[&str]) -> Value {
    let out = ok(root, args);
    serde_json::from_slice(&out.stdout).expect("invoke prints JSON")
}

/// What each source's stub answers to its own sample event.
fn assert_sample_answer(source: &str, answer: &Value) {
    match source {
        "kinesis" | "sqs" | "dynamodb" => {
            assert_eq!(answer, &json!({"batchItemFailures": []}), "{source}")
        }
        "sns" => assert_eq!(
            answer,
            &json!({"handled": ["95df01b4-ee98-5cb9-9903-4c221d41eb5e"]})
        ),
        "s3" => assert_eq!(answer, &json!({"handled": ["uploads/my file(1).txt"]})),
        "eventbridge" => assert_eq!(
            answer,
            &json!({"handled": "6a7e8feb-b491-4cf7-a9f1-bf3703467718"})
        ),
        "schedule" => assert_eq!(
            answer,
            &json!({"scheduled_time": "1970-01-01T00:00:00+00:00"})
        ),
        "rest-api" => {
            assert_eq!(answer["statusCode"], 200);
            assert_eq!(answer["body"], "{\"message\": \"hello, lambda\"}");
        }
        _ => {
            assert_eq!(answer["statusCode"], 200, "{source}");
            assert_eq!(
                answer["body"], "{\"received\": {\"test\": \"body\"}}",
                "{source}"
            );
        }
    }
}

/// The sample event of a batch source with three records, the second one
/// poisoned; returns the event and the poisoned record's item identifier.
fn mixed_batch(root: &Path, source: &str) -> (Value, String) {
    let fixture = root.join(format!("test/fixtures/{source}_event.json"));
    let mut event: Value = serde_json::from_slice(&fs::read(fixture).unwrap()).unwrap();
    let records = event["Records"].as_array_mut().unwrap();
    let template = records[0].clone();
    records.clear();
    for number in 1..=3 {
        let mut record = template.clone();
        let poison = number == 2;
        let id = format!("{number}");
        match source {
            "kinesis" => {
                // base64 of `{"n": 1}` and of text that is not JSON.
                record["kinesis"]["data"] = if poison {
                    "bm90IGpzb24="
                } else {
                    "eyJuIjogMX0="
                }
                .into();
                record["kinesis"]["sequenceNumber"] = id.into();
            }
            "sqs" => {
                record["body"] = if poison { "not json" } else { "{\"n\": 1}" }.into();
                record["messageId"] = id.into();
            }
            _ => {
                if poison {
                    record["dynamodb"]["Keys"]["Id"] = json!({"N": "not a number"});
                }
                record["dynamodb"]["SequenceNumber"] = id.into();
            }
        }
        records.push(record);
    }
    (event, "2".to_string())
}

#[test]
fn every_source_gets_a_stub_whose_tests_pass_invoke_answers_and_its_zip_runs() {
    let (dir, root) = project_with_every_source();
    // The sources' tests, and utils' (utils.http comes with the first HTTP source).
    assert!(python_unittest(&root) > EVENT_SOURCES.len() * 3);

    let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    assert!(
        manifest.contains("name = \"on_sqs\"\nevent = \"sqs\"\n"),
        "{manifest}"
    );
    assert!(
        !manifest.contains("event = \"kinesis\""),
        "the kind's default is not written: {manifest}"
    );
    let listing: Value = serde_json::from_slice(&ok(&root, &["list", "--json"]).stdout).unwrap();
    let events: Vec<&str> = listing["lambdas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, EVENT_SOURCES);
    assert!(stdout(&ok(&root, &["list"])).contains(" function-url "));

    for source in EVENT_SOURCES {
        let name = handler_name(source);
        let answer = invoke_json(&root, &["invoke", "consumers", &name]);
        assert_sample_answer(source, &answer);
    }

    for source in ["kinesis", "sqs", "dynamodb"] {
        let (event, poisoned) = mixed_batch(&root, source);
        let path = dir.path().join(format!("{source}-mixed.json"));
        fs::write(&path, event.to_string()).unwrap();
        let answer = invoke_json(
            &root,
            &[
                "invoke",
                "consumers",
                &handler_name(source),
                "--event",
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(
            answer,
            json!({"batchItemFailures": [{"itemIdentifier": poisoned}]}),
            "{source}"
        );
    }

    build_ok(&root, &["--all", "--local"], &[]);
    for source in EVENT_SOURCES {
        let name = handler_name(source);
        let fixture = root
            .join("test/fixtures")
            .join(format!("{}_event.json", fixture_stem(source)));
        let answer = run_from_zip(
            &root.join(format!("target/{name}.zip")),
            &format!("consumers.{name}"),
            &fixture,
        );
        assert_sample_answer(source, &answer["result"]);
    }
}

/// The file name stem of a source's sample event (REST APIs keep the name
/// API Gateway's first events had).
fn fixture_stem(source: &str) -> String {
    match source {
        "rest-api" => "api_gateway".to_string(),
        other => other.replace('-', "_"),
    }
}

#[test]
fn any_kind_takes_any_source_and_the_default_is_the_kinds() {
    let (_dir, root) = project("site", &["--layout", "web-stack", "--bare"]);
    ok(
        &root,
        &["add-handler", "handlers", "nightly", "--event", "schedule"],
    );
    ok(&root, &["add-handler", "handlers", "index"]);
    let listing: Value = serde_json::from_slice(&ok(&root, &["list", "--json"]).stdout).unwrap();
    assert_eq!(listing["lambdas"][0]["event"], "schedule");
    assert_eq!(listing["lambdas"][1]["event"], "http-api");
    assert!(root.join("test/fixtures/schedule_event.json").is_file());
    assert_sample_answer(
        "schedule",
        &invoke_json(&root, &["invoke", "handlers", "nightly"]),
    );
    let (_dir, log) = project("svc", &["--bare"]);
    ok(
        &log,
        &["add-handler", "producers", "on_upload", "--event", "s3"],
    );
    assert_sample_answer(
        "s3",
        &invoke_json(&log, &["invoke", "producers", "on_upload"]),
    );
}

#[test]
fn an_unknown_source_is_a_usage_error_that_lists_the_valid_ones() {
    let (_dir, root) = project("svc", &[]);
    assert_usage_errors(
        &root,
        &[&["add-handler", "consumers", "x", "--event", "pigeon"]],
    );
    let err = stderr(&run(
        &root,
        &["add-handler", "consumers", "x", "--event", "pigeon"],
    ));
    assert!(err.contains("invalid value 'pigeon'"), "{err}");
    for source in EVENT_SOURCES {
        assert!(err.contains(source), "{source} missing in {err}");
    }
}

#[test]
fn check_and_list_name_an_unknown_source_in_the_manifest() {
    let (_dir, root) = project("svc", &[]);
    let manifest = root.join("lambdas.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    let edited = text.replace(
        "name = \"log_sink\"\n",
        "name = \"log_sink\"\nevent = \"pigeon\"\n",
    );
    assert_ne!(text, edited);
    fs::write(&manifest, edited).unwrap();

    let out = run(&root, &["check", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problem = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "bad-entry")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("has unknown event source `pigeon` (known: `kinesis`, `sqs`"),
        "{problem}"
    );
    assert_refused(&root, &root, &["list"], "unknown event source `pigeon`");
}

#[test]
fn force_rewrites_a_handler_for_its_recorded_source_and_refuses_another() {
    let (_dir, root) = project("svc", &["--bare"]);
    ok(
        &root,
        &["add-handler", "consumers", "orders", "--event", "sqs"],
    );
    let module = root.join("consumers/orders/consumers.py");
    let stub = fs::read_to_string(&module).unwrap();
    fs::write(&module, "# edited\n").unwrap();
    ok(&root, &["add-handler", "consumers", "orders", "--force"]);
    assert_eq!(
        fs::read_to_string(&module).unwrap(),
        stub,
        "the SQS stub again"
    );
    assert_refused(
        &root,
        &root,
        &[
            "add-handler",
            "consumers",
            "orders",
            "--force",
            "--event",
            "s3",
        ],
        "handler `consumers/orders` is recorded in lambdas.toml with event source `sqs`, not `s3`",
    );
}
