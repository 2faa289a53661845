//! `template.yaml`, the project's AWS SAM template: written by `new-project`,
//! kept in step by `add-handler` and `remove-handler` without losing the
//! user's edits, valid for cfn-lint and for aws-sam-translator (the transform
//! `sam deploy` runs) in every variant.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A project of `args` with `count` handlers of each of its kinds (0: bare;
/// 1: the examples; more: the examples and others added).
fn project_with(args: &[&str], count: usize) -> (tempfile::TempDir, PathBuf, Vec<&'static str>) {
    let mut all = args.to_vec();
    if count == 0 {
        all.push("--bare");
    }
    let (dir, root) = project("stack-me", &all);
    let kinds: Vec<&'static str> = if args.contains(&"web-stack") {
        vec!["handlers"]
    } else {
        vec!["producers", "consumers"]
    };
    for kind in &kinds {
        for n in 1..count {
            ok(
                &root,
                &["add-handler", kind, &format!("{}_{n}", &kind[..4])],
            );
        }
    }
    (dir, root, kinds)
}

/// The variants, pairwise: both layouts with 0, 1 and 30 handlers of each
/// kind, both architectures, each Python, the dependencies bundled or in a
/// layer.
const VARIANTS: &[(&[&str], usize)] = &[
    (&["--layout", "log-centric", "--python", "3.10"], 0),
    (
        &[
            "--layout",
            "log-centric",
            "--arch",
            "arm64",
            "--python",
            "3.14",
            "--dependencies",
            "layer",
        ],
        1,
    ),
    (&["--layout", "log-centric", "--python", "3.12"], 30),
    (
        &[
            "--layout",
            "web-stack",
            "--arch",
            "arm64",
            "--python",
            "3.13",
        ],
        0,
    ),
    (
        &[
            "--layout",
            "web-stack",
            "--python",
            "3.11",
            "--dependencies",
            "layer",
        ],
        1,
    ),
    (
        &[
            "--layout",
            "web-stack",
            "--arch",
            "arm64",
            "--python",
            "3.10",
        ],
        30,
    ),
];

/// Runs cfn-lint on the templates and asserts it finds nothing: no error, no
/// warning, no note. One exception, which is true and comes with the calendar:
/// the runtime lifecycle rules (W2531 deprecated, E2531 no more creates, E2533
/// no more updates) for the Amazon Linux 2 runtimes python3.10 and python3.11,
/// which AWS retires from 2026-10-31 and 2027-06-30 on.
fn cfn_lint(templates: &[PathBuf]) {
    let Some(cfn_lint) = tool("cfn-lint") else {
        return;
    };
    let out = Command::new(cfn_lint)
        .args(["--format", "parseable"])
        .args(templates)
        .output()
        .expect("cfn-lint runs");
    let findings: Vec<String> = stdout(&out)
        .lines()
        .filter(|line| {
            let template = line.split(':').next().unwrap_or_default();
            let retiring = fs::read_to_string(template).is_ok_and(|text| {
                text.contains("Runtime: python3.10") || text.contains("Runtime: python3.11")
            });
            let lifecycle = [":W2531:", ":E2531:", ":E2533:"]
                .iter()
                .any(|rule| line.contains(rule));
            !(retiring && lifecycle)
        })
        .map(String::from)
        .collect();
    assert!(
        findings.is_empty() && stderr(&out).is_empty(),
        "cfn-lint:\n{}\n{}",
        findings.join("\n"),
        stderr(&out)
    );
}

/// What aws-sam-translator makes of each template, one JSON value each (see
/// tests/support/sam_translate.py); `None` when the tool is missing outside CI.
fn translated(templates: &[PathBuf]) -> Option<Vec<serde_json::Value>> {
    // aws-sam-translator comes with cfn-lint, in its venv (scripts/test.sh).
    let python = tool("cfn-lint")?.with_file_name("python3");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/sam_translate.py");
    let out = Command::new(python)
        .arg(script)
        .args(templates)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "translation failed:\n{}",
        stderr(&out)
    );
    Some(
        stdout(&out)
            .lines()
            .map(|line| serde_json::from_str(line).expect("one JSON value a line"))
            .collect(),
    )
}

/// check's estimate of the resources CloudFormation holds (for its warning
/// near the limit) is what aws-sam-translator makes.
fn assert_resources_estimated(template: &Path, translated: &serde_json::Value) {
    let text = fs::read_to_string(template).unwrap();
    assert_eq!(
        lambda_scaffold::stack::estimated_resources(&text),
        translated["resources"].as_u64().unwrap() as usize,
        "{}",
        template.display()
    );
}

#[test]
fn every_variants_template_lints_clean_and_translates_to_cloudformation() {
    let projects: Vec<_> = VARIANTS
        .iter()
        .map(|(args, count)| (project_with(args, *count), *args, *count))
        .collect();
    let templates: Vec<PathBuf> = projects
        .iter()
        .map(|((_, root, _), ..)| root.join("template.yaml"))
        .collect();
    cfn_lint(&templates);
    let Some(results) = translated(&templates) else {
        return;
    };
    for (((_, root, kinds), args, count), result) in projects.iter().zip(results) {
        let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
        let python = manifest
            .lines()
            .find_map(|l| l.strip_prefix("python = "))
            .unwrap()
            .trim_matches('"');
        let arch = if args.contains(&"arm64") {
            "arm64"
        } else {
            "x86_64"
        };
        let functions = result["functions"].as_object().unwrap();
        assert_eq!(functions.len(), count * kinds.len(), "{args:?}");
        assert_resources_estimated(&root.join("template.yaml"), &result);
        let uses = assert_layer_follows_manifest(&result, args.contains(&"layer"), python, arch);
        for function in functions.values() {
            assert_eq!(function["layers"], uses, "{args:?}");
            let handler = function["handler"].as_str().unwrap();
            let (kind, name) = handler.split_once('.').unwrap();
            assert!(kinds.contains(&kind), "{handler}");
            assert!(
                root.join(kind)
                    .join(name)
                    .join(format!("{kind}.py"))
                    .is_file(),
                "{handler} has no code"
            );
            assert_eq!(function["runtime"], format!("python{python}"));
            assert_eq!(function["architectures"], serde_json::json!([arch]));
            assert_eq!(function["code"]["S3Key"], format!("{name}.zip"));
            let environment = &function["environment"];
            let wants_stream = kind == "producers";
            assert_eq!(
                environment
                    .as_array()
                    .unwrap()
                    .contains(&"STREAM_NAME".into()),
                wants_stream,
                "{handler}: {environment}"
            );
        }
        assert_eq!(result["log_groups"], functions.len(), "{args:?}");
        if kinds.contains(&"consumers") {
            let mappings = result["mappings"].as_array().unwrap();
            assert_eq!(mappings.len(), *count, "one stream mapping per consumer");
            for mapping in mappings {
                assert_eq!(
                    mapping["response_types"],
                    serde_json::json!(["ReportBatchItemFailures"])
                );
                assert_eq!(mapping["retries"], 3);
                assert_eq!(mapping["on_failure"], true);
            }
            assert_eq!(result["rules"], *count, "one schedule per producer");
        } else {
            let routes: Vec<&str> = result["routes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
                .collect();
            // The methods the stub serves (405 for the others).
            assert_eq!(routes.len(), 2 * count, "{routes:?}");
            if *count > 0 {
                assert!(routes.contains(&"GET /index"), "{routes:?}");
                assert!(routes.contains(&"POST /index"), "{routes:?}");
            }
        }
    }
}

/// Asserts that a translated template holds the dependencies' layer (of
/// `target/dependencies.zip`, for the manifest's runtime and architecture)
/// when `layer`, and none otherwise; returns the `Layers` every function
/// must have: a reference to it, or none.
fn assert_layer_follows_manifest(
    translated: &serde_json::Value,
    layer: bool,
    python: &str,
    arch: &str,
) -> serde_json::Value {
    let layers = translated["layers"].as_object().unwrap();
    if !layer {
        assert!(layers.is_empty(), "{layers:?}");
        return serde_json::json!([]);
    }
    assert_eq!(layers.len(), 1, "{layers:?}");
    let (logical, properties) = layers.iter().next().unwrap();
    assert!(logical.starts_with("DependenciesLayer"), "{logical}");
    assert_eq!(properties["content"]["S3Key"], "dependencies.zip");
    assert_eq!(
        properties["runtimes"],
        serde_json::json!([format!("python{python}")])
    );
    assert_eq!(properties["architectures"], serde_json::json!([arch]));
    // The translator puts the Stage parameter's default into the name.
    let name = properties["name"]["Fn::Sub"].as_str().unwrap();
    assert!(name.ends_with("-dev-dependencies"), "{name}");
    serde_json::json!([{ "Ref": logical }])
}

/// The template of a new project as a user may have edited it: comments,
/// a resource of their own, `Resources` indented by four spaces, CRLF line
/// endings; `Resources` last as generated, or moved before `Outputs` (then
/// add-handler edits the file in place instead of appending to it).
fn hand_edited(root: &Path, resources_last: bool) -> String {
    let text = fs::read_to_string(root.join("template.yaml")).unwrap();
    let (head, resources) = text.split_once("\nResources:\n").unwrap();
    let (head, outputs) = head.split_once("\nOutputs:\n").unwrap();
    let resources: String = resources
        .lines()
        .map(|l| match l.starts_with(' ') {
            true => format!("  {l}\n"),
            false => format!("{l}\n"),
        })
        .collect();
    let outputs = format!("Outputs:   # what we export\n{outputs}");
    let resources = format!(
        "# ours and the tool's\nResources:\n    # my table\n    Orders:\n        Type: AWS::DynamoDB::Table\n        Properties:\n            BillingMode: PAY_PER_REQUEST\n            KeySchema:\n                - AttributeName: id\n                  KeyType: HASH\n            AttributeDefinitions:\n                - AttributeName: id\n                  AttributeType: S\n{resources}"
    );
    let edited = match resources_last {
        true => format!("{head}\n{outputs}\n{resources}"),
        false => format!("{head}\n{resources}\n{outputs}"),
    };
    edited.replace('\n', "\r\n")
}

#[test]
fn add_and_remove_keep_every_edit_elsewhere_in_a_hand_edited_template() {
    for resources_last in [true, false] {
        let (_dir, root) = project("svc", &[]);
        let edited = hand_edited(&root, resources_last);
        fs::write(root.join("template.yaml"), &edited).unwrap();
        ok(&root, &["add-handler", "producers", "order_placed"]);
        ok(&root, &["add-handler", "consumers", "order_sink"]);
        let added = fs::read_to_string(root.join("template.yaml")).unwrap();
        assert!(!added.replace("\r\n", "").contains('\n'), "CRLF kept");
        let mut rest = added.lines();
        for line in edited.lines() {
            assert!(rest.any(|l| l == line), "lost `{line}`");
        }
        assert!(
            added.contains("\r\n    # lambda-scaffold: begin consumers.order_sink (sha256 "),
            "{added}"
        );
        assert!(
            added.contains(
                ")\r\n    OrderSinkFunction:\r\n      Type: AWS::Serverless::Function\r\n"
            ),
            "keys indented like the section's:\n{added}"
        );
        let order_sink = added.find("begin consumers.order_sink").unwrap();
        if resources_last {
            // Appended: the file before it is as it was.
            assert!(added.starts_with(&edited), "{added}");
        } else {
            // At the end of Resources, before the section the user moved.
            let outputs = added.find("Outputs:   # what we export").unwrap();
            assert!(order_sink < outputs, "{added}");
            assert!(added.ends_with("    Value: !Ref Schedules\r\n"), "{added}");
        }
        cfn_lint(&[root.join("template.yaml")]);
        ok(&root, &["remove-handler", "consumers", "order_sink"]);
        ok(&root, &["remove-handler", "producers", "order_placed"]);
        assert_eq!(
            fs::read_to_string(root.join("template.yaml")).unwrap(),
            edited
        );
    }
}

#[test]
fn an_edited_part_is_kept_unless_force() {
    let (_dir, root) = project("svc", &[]);
    let path = root.join("template.yaml");
    let text = fs::read_to_string(&path).unwrap();
    let edited = text.replacen(
        "      CodeUri: target/log_event.zip\n",
        "      CodeUri: target/log_event.zip\n      MemorySize: 1024\n",
        1,
    );
    assert_ne!(edited, text);
    fs::write(&path, &edited).unwrap();
    assert_refused(
        &root,
        &root,
        &["remove-handler", "producers", "log_event"],
        "the part of `template.yaml` for `producers.log_event` was edited since it was generated",
    );
    let out = ok(&root, &["add-handler", "producers", "log_event", "--force"]);
    assert!(
        stdout(&out)
            .contains("template.yaml (edited since it was generated) as template.yaml.orig"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        fs::read_to_string(root.join("template.yaml.orig")).unwrap(),
        edited
    );
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        text,
        "--force wrote it again"
    );

    // A resource of the user's that uses the function: removing the part
    // would break the template.
    let alarm = "  Alarm:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      Dimensions:\n        - Name: FunctionName\n          Value: !Ref LogEventFunction\n";
    fs::write(
        &path,
        text.replacen("Resources:\n", &format!("Resources:\n{alarm}"), 1),
    )
    .unwrap();
    assert_refused(
        &root,
        &root,
        &["remove-handler", "producers", "log_event"],
        "`template.yaml` refers to `LogEventFunction` of `producers.log_event` outside its part",
    );

    fs::write(&path, &edited).unwrap();
    ok(
        &root,
        &["remove-handler", "producers", "log_event", "--force"],
    );
    let removed = fs::read_to_string(&path).unwrap();
    assert!(!removed.contains("log_event"), "{removed}");
    assert!(removed.contains("consumers.log_sink"));
}

#[test]
fn a_template_the_tool_cannot_edit_refuses_the_whole_change() {
    let (_dir, root) = project("svc", &[]);
    let path = root.join("template.yaml");
    let text = fs::read_to_string(&path).unwrap();
    let cases = [
        (
            text.replace("Resources:\n", "Things:\n"),
            "has no `Resources:` section",
        ),
        (
            text.replace(
                "  LogStream:\n",
                "  NewOneFunction:\n    Type: AWS::SNS::Topic\n  LogStream:\n",
            ),
            "already has `NewOneFunction` in `Resources`",
        ),
        (
            format!(
                "{}Resources: {{}}\n",
                text.split("Resources:\n").next().unwrap()
            ),
            "writes `Resources` on one line (flow style)",
        ),
    ];
    for (broken, message) in cases {
        fs::write(&path, &broken).unwrap();
        assert_refused(
            &root,
            &root,
            &["add-handler", "producers", "new_one"],
            message,
        );
    }
    fs::write(
        &path,
        text.replace("  # lambda-scaffold: end producers.log_event\n", ""),
    )
    .unwrap();
    assert_refused(
        &root,
        &root,
        &["remove-handler", "producers", "log_event"],
        "line without its pair",
    );
}

#[test]
fn every_event_source_gets_its_trigger_in_both_layouts() {
    let sources = EVENT_SOURCES;
    let mut projects = Vec::new();
    for (layout, kind) in [("log-centric", "consumers"), ("web-stack", "handlers")] {
        let (dir, root) = project("sources", &["--layout", layout, "--bare"]);
        for source in sources {
            let name = format!("on_{}", source.replace('-', "_"));
            ok(&root, &["add-handler", kind, &name, "--event", source]);
        }
        projects.push((dir, root, layout));
    }
    let templates: Vec<PathBuf> = projects
        .iter()
        .map(|(_, root, _)| root.join("template.yaml"))
        .collect();
    cfn_lint(&templates);
    let Some(results) = translated(&templates) else {
        return;
    };
    for ((_, root, layout), result) in projects.iter().zip(results) {
        assert_resources_estimated(&root.join("template.yaml"), &result);
        assert_eq!(
            result["functions"].as_object().unwrap().len(),
            sources.len()
        );
        // kinesis, dynamodb and sqs: one event source mapping each, all
        // reporting batch item failures.
        let mappings = result["mappings"].as_array().unwrap();
        assert_eq!(mappings.len(), 3, "{layout}: {mappings:?}");
        assert!(
            mappings
                .iter()
                .all(|m| m["response_types"] == serde_json::json!(["ReportBatchItemFailures"]))
        );
        // A stream record that still fails after its retries is sent to a
        // queue, not dropped (an SQS message goes to its dead-letter queue).
        let streams: Vec<&serde_json::Value> = mappings
            .iter()
            .filter(|m| m["function"] != "OnSqsFunction")
            .collect();
        assert_eq!(streams.len(), 2, "{layout}: kinesis and dynamodb");
        assert!(
            streams.iter().all(|m| m["on_failure"] == true),
            "{layout}: {streams:?}"
        );
        // Each function reading batches has a role of its own that reads
        // its one stream, queue or table stream: no read on every resource,
        // and none of AWS's managed policies that grant one.
        let roles = result["batch_roles"].as_object().unwrap();
        let names: std::collections::BTreeSet<&str> = roles
            .values()
            .map(|role| role["role"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 3, "{layout}: a role each: {roles:?}");
        for (function, role) in roles {
            assert_eq!(
                role["wide_actions"],
                serde_json::json!([]),
                "{layout}: {function} reads every resource"
            );
            assert_eq!(
                role["wide_managed_policies"],
                serde_json::json!([]),
                "{layout}: {function}"
            );
        }
        assert_eq!(result["rules"], 2, "{layout}: eventbridge and schedule");
        assert_eq!(
            result["event_patterns"], 1,
            "{layout}: eventbridge matches events"
        );
        assert_eq!(
            result["redriven_queues"], 1,
            "{layout}: sqs has a dead-letter queue"
        );
        assert_eq!(
            result["retained"],
            serde_json::json!(["AWS::DynamoDB::Table", "AWS::S3::Bucket"]),
            "{layout}: the data of a removed handler's table and bucket is kept"
        );
        assert_eq!(
            result["async_on_failure"], 4,
            "{layout}: an event of sns, s3, eventbridge or schedule that still fails \
             after Lambda's retries goes to a queue, not lost"
        );
        assert_eq!(result["subscriptions"], 1, "{layout}: sns");
        assert_eq!(result["bucket_notifications"], 1, "{layout}: s3");
        assert_eq!(result["urls"], 1, "{layout}: function-url");
        let routes = result["routes"].as_array().unwrap();
        for route in [
            "GET /on_http_api",
            "POST /on_http_api",
            "GET /on_rest_api",
            "POST /on_rest_api",
        ] {
            assert!(
                routes.contains(&route.into()),
                "{layout}: {route} in {routes:?}"
            );
        }
    }
}

/// A function whose handler has no code in the project.
const GHOST: &str = "  Ghost:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: producers.ghost\n      CodeUri: target/ghost.zip\n";

#[test]
fn check_names_what_the_template_lacks_and_fix_adds_it() {
    let (_dir, root) = project("svc", &[]);
    let path = root.join("template.yaml");
    let original = fs::read_to_string(&path).unwrap();
    // The consumer's part taken out by hand, a function for code that is
    // not there added.
    let mut text = String::new();
    let mut inside = false;
    for line in original.split_inclusive('\n') {
        if line.contains("# lambda-scaffold: begin consumers.log_sink") {
            inside = true;
        }
        if !inside {
            text.push_str(line);
        }
        if line.contains("# lambda-scaffold: end consumers.log_sink") {
            inside = false;
        }
    }
    let text = text.replacen("Resources:\n", &format!("Resources:\n{GHOST}"), 1);
    fs::write(&path, &text).unwrap();
    let out = run(&root, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout(&out);
    assert!(
        report.contains("template.yaml: has no function for the handler `consumers.log_sink`"),
        "{report}"
    );
    assert!(
        report.contains("template.yaml: has a function for the handler `producers.ghost`, which has no code here"),
        "{report}"
    );

    let out = run(&root, &["check", "--fix"]);
    assert_eq!(out.status.code(), Some(1), "the ghost needs a person");
    let fixed = fs::read_to_string(&path).unwrap();
    assert!(
        fixed.starts_with(&text[..text.find("\nOutputs:").unwrap()]),
        "{fixed}"
    );
    assert!(
        fixed.contains("      Handler: consumers.log_sink\n"),
        "{fixed}"
    );
    fs::write(&path, fixed.replacen(GHOST, "", 1)).unwrap();
    cfn_lint(std::slice::from_ref(&path));
    ok(&root, &["check"]);

    // A project without a template gets the one new-project writes.
    fs::remove_file(&path).unwrap();
    let out = run(&root, &["check"]);
    assert!(
        stdout(&out).contains("template.yaml: missing"),
        "{}",
        stdout(&out)
    );
    ok(&root, &["check", "--fix"]);
    assert_eq!(fs::read_to_string(&path).unwrap(), original);
}

#[test]
fn the_templates_runtime_and_architecture_follow_lambdas_toml() {
    let (_dir, root) = project("svc", &["--layout", "web-stack"]);
    change_build_settings_to_312_arm64(&root);
    let out = run(&root, &["check", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mismatch = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "template.yaml")
        .expect("template.yaml is named");
    assert_eq!(mismatch["code"], "setting-mismatch");
    ok(&root, &["check", "--fix"]);
    let template = fs::read_to_string(root.join("template.yaml")).unwrap();
    assert!(
        template.contains("    Runtime: python3.12\n    Architectures: [arm64]\n"),
        "{template}"
    );
    let Some(results) = translated(&[root.join("template.yaml")]) else {
        return;
    };
    let functions = results[0]["functions"].as_object().unwrap();
    assert!(functions.values().all(
        |f| f["runtime"] == "python3.12" && f["architectures"] == serde_json::json!(["arm64"])
    ));
}

/// Sets `dependencies` in the project's lambdas.toml, as a user switching
/// modes would.
fn set_dependencies(root: &Path, mode: &str) {
    let path = root.join("lambdas.toml");
    let text = fs::read_to_string(&path).unwrap();
    let without: String = text
        .lines()
        .filter(|line| !line.starts_with("dependencies = "))
        .map(|line| format!("{line}\n"))
        .collect();
    let set = without.replacen("ci = ", &format!("dependencies = \"{mode}\"\nci = "), 1);
    assert_ne!(set, without);
    fs::write(&path, set).unwrap();
}

/// The codes of the problems `check --json` reports.
fn problem_codes(root: &Path) -> Vec<String> {
    let out = run(root, &["check", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["code"].as_str().unwrap(),
                p["path"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn check_adds_or_removes_the_layer_when_the_dependencies_setting_changes() {
    let (_dir, root) = project("svc", &[]);
    let path = root.join("template.yaml");
    let original = fs::read_to_string(&path).unwrap();
    // A new project in layer mode: what `check --fix` must write.
    let (_layered_dir, layered) = project("svc", &["--dependencies", "layer"]);
    let wanted = fs::read_to_string(layered.join("template.yaml")).unwrap();
    let manifest = fs::read_to_string(layered.join("lambdas.toml")).unwrap();
    assert!(
        manifest.contains("\ndependencies = \"layer\"  # or \"bundle\""),
        "{manifest}"
    );
    assert!(
        wanted.contains("ContentUri: target/dependencies.zip"),
        "{wanted}"
    );
    ok(&layered, &["check"]);

    set_dependencies(&root, "layer");
    let out = run(&root, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("template.yaml: declares no layer of `target/dependencies.zip`, where lambdas.toml puts the dependencies"),
        "{}",
        stdout(&out)
    );
    assert_eq!(problem_codes(&root), ["missing-layer template.yaml"]);
    let out = ok(&root, &["check", "--fix"]);
    assert!(
        stdout(&out)
            .contains("fixed template.yaml: added the dependencies' layer, used by every function"),
        "{}",
        stdout(&out)
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), wanted);

    set_dependencies(&root, "bundle");
    assert_eq!(problem_codes(&root), ["extra-layer template.yaml"]);
    ok(&root, &["check", "--fix"]);
    assert_eq!(fs::read_to_string(&path).unwrap(), original);
    ok(&root, &["check"]);

    // A template the user edited elsewhere (CRLF, sections reordered and
    // indented their way, a resource of theirs) keeps every edit both ways.
    let edited = hand_edited(&root, false);
    fs::write(&path, &edited).unwrap();
    set_dependencies(&root, "layer");
    ok(&root, &["check", "--fix"]);
    let layered_edit = fs::read_to_string(&path).unwrap();
    assert!(
        !layered_edit.replace("\r\n", "").contains('\n'),
        "CRLF kept"
    );
    let mut rest = layered_edit.lines();
    for line in edited.lines() {
        assert!(rest.any(|l| l == line), "lost `{line}`");
    }
    assert!(
        layered_edit
            .contains("\r\nResources:\r\n    # lambda-scaffold: begin dependencies-layer (sha256 "),
        "{layered_edit}"
    );
    cfn_lint(std::slice::from_ref(&path));
    if let Some(results) = translated(std::slice::from_ref(&path)) {
        let uses = assert_layer_follows_manifest(&results[0], true, "3.13", "x86_64");
        for function in results[0]["functions"].as_object().unwrap().values() {
            assert_eq!(function["layers"], uses);
        }
    }
    set_dependencies(&root, "bundle");
    ok(&root, &["check", "--fix"]);
    assert_eq!(fs::read_to_string(&path).unwrap(), edited);
}

#[test]
fn a_layer_check_fix_cannot_write_or_remove_whole_is_refused_or_left_to_a_person() {
    let (_dir, root) = project("svc", &[]);
    let path = root.join("template.yaml");
    let text = fs::read_to_string(&path).unwrap();
    // No `Globals: Function:` to give the functions the layer: the whole
    // repair is refused, the other fixes with it.
    let (head, rest) = text.split_once("Globals:\n").unwrap();
    let (_, resources) = rest.split_once("\nResources:\n").unwrap();
    fs::write(&path, format!("{head}Resources:\n{resources}")).unwrap();
    fs::remove_file(root.join("producers/__init__.py")).unwrap();
    set_dependencies(&root, "layer");
    assert_refused(
        &root,
        &root,
        &["check", "--fix"],
        "`template.yaml` has no `Globals:` section with `Function:` to give every function the dependencies' layer",
    );

    // A `Layers` of the user's in `Globals: Function:`, a resource of the
    // layer's name, `Globals` in flow style: each refused whole.
    let globals = "Globals:\n  Function:\n";
    assert!(text.contains(globals), "{text}");
    for (edited, message) in [
        (
            text.replacen(
                globals,
                &format!("{globals}    Layers: [arn:aws:lambda:us-east-1:1:layer:x:1]\n"),
                1,
            ),
            "`template.yaml` already has `Layers` in `Globals: Function`, where the dependencies' layer goes",
        ),
        (
            text.replacen(
                "Resources:\n",
                "Resources:\n  DependenciesLayer:\n    Type: AWS::SQS::Queue\n",
                1,
            ),
            "`template.yaml` already has `DependenciesLayer` in `Resources`, where the dependencies' layer goes",
        ),
        (
            text.replacen(
                globals,
                "Globals: {Function: {Timeout: 30}}\nUnused:\n  Function:\n",
                1,
            ),
            "`template.yaml` writes `Globals` on one line (flow style), which lambda-scaffold cannot edit",
        ),
    ] {
        fs::write(&path, edited).unwrap();
        assert_refused(&root, &root, &["check", "--fix"], message);
    }

    // In bundle mode, a layer part the user edited is theirs to remove.
    fs::write(&path, &text).unwrap();
    ok(&root, &["check", "--fix"]);
    let edited = fs::read_to_string(&path)
        .unwrap()
        .replace("RetentionPolicy: Delete", "RetentionPolicy: Retain");
    fs::write(&path, &edited).unwrap();
    set_dependencies(&root, "bundle");
    let before = snapshot(&root);
    let out = run(&root, &["check", "--fix"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("template.yaml: deploys `target/dependencies.zip` as a layer, which build.sh does not write when lambdas.toml bundles the dependencies"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("remove the layer and its uses by hand"),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(&root), before, "nothing to fix, nothing written");
}

/// moto in server mode on 127.0.0.1 at a free port: a stand-in AWS, stopped
/// (killed and reaped) when dropped, so also when the test fails.
struct StandInAws {
    server: std::process::Child,
    endpoint: String,
}

impl StandInAws {
    /// Starts `moto_server` from cfn-lint's venv; `None` when it is missing
    /// outside CI.
    fn start() -> Option<Self> {
        let server = tool("cfn-lint")?.with_file_name("moto_server");
        assert!(
            server.is_file(),
            "scripts/test.sh installs moto[server] beside cfn-lint"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let aws = StandInAws {
            server: child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "moto_server did not answer"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Some(aws)
    }

    /// Deploys the project as `sam deploy --config-env dev` would (see
    /// tests/support/moto_deploy.py) and returns what the stack holds.
    fn deploy(&self, root: &Path) -> serde_json::Value {
        self.stack(root, &[])
    }

    /// What the stack holds, deploying nothing.
    fn state(&self, root: &Path) -> serde_json::Value {
        self.stack(root, &["--state-only"])
    }

    fn stack(&self, root: &Path, options: &[&str]) -> serde_json::Value {
        let python = tool("cfn-lint")
            .expect("checked in start")
            .with_file_name("python3");
        let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support");
        let out = self
            .command(&python)
            .arg(support.join("moto_deploy.py"))
            .args([root.to_str().unwrap(), "svc-dev", "dev"])
            .args(options)
            .env("PYTHONPATH", &support)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "deploy failed:\n{}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("one JSON object")
    }

    /// The project's `./deploy.sh ARGS`, with the AWS CLI of cfn-lint's venv.
    fn deploy_sh(&self, root: &Path, args: &[&str]) -> std::process::Output {
        let bin = tool("cfn-lint").expect("checked in start");
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        self.command(&root.join("deploy.sh"))
            .args(args)
            .current_dir(root)
            .env("PATH", path)
            .output()
            .expect("deploy.sh runs")
    }

    /// What the AWS CLI of cfn-lint's venv prints for `args`, which must succeed.
    fn aws(&self, args: &[&str]) -> String {
        let cli = tool("cfn-lint")
            .expect("checked in start")
            .with_file_name("aws");
        let out = self.command(&cli).args(args).output().expect("aws runs");
        assert!(out.status.success(), "aws {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// A command that reaches the stand-in AWS, with made-up credentials.
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        without_aws_credentials(&mut command)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1");
        command
    }
}

impl Drop for StandInAws {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn build_all(root: &Path) {
    let out = Command::new(root.join("build.sh"))
        .args(["--all", "--local"])
        .current_dir(root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("build.sh runs");
    assert!(
        out.status.success(),
        "build.sh --all --local:\n{}",
        stderr(&out)
    );
}

fn function_names(state: &serde_json::Value) -> Vec<String> {
    state["functions"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// The first deploy of the README (build every zip, deploy the template), on
/// a stand-in AWS, then the stack following add-handler and remove-handler.
/// moto's CloudFormation does not create HTTP APIs nor keep a function's
/// architecture: the routes and the architectures are asserted on the
/// translated template instead (the tests above).
#[test]
fn the_template_deploys_and_redeploys_as_handlers_come_and_go() {
    let Some(aws) = StandInAws::start() else {
        return;
    };
    let (_dir, root) = project("svc", &["--python", "3.12"]);
    build_all(&root);
    let state = aws.deploy(&root);
    assert_eq!(state["status"], "CREATE_COMPLETE", "{state}");
    assert_eq!(
        function_names(&state),
        ["LogEventFunction", "LogSinkFunction"]
    );
    for (logical, handler) in [
        ("LogEventFunction", "producers.log_event"),
        ("LogSinkFunction", "consumers.log_sink"),
    ] {
        let function = &state["functions"][logical];
        assert_eq!(function["handler"], handler);
        assert_eq!(function["runtime"], "python3.12");
        assert_eq!(function["environment"]["STAGE"], "dev");
    }
    // The consumer runs as its part's role, whose policy reads its one
    // stream, not as one SAM made with AWS's policy that reads every stream
    // (moto's CloudFormation attaches no managed policy: the logs' is not
    // listed; the translated template's roles are checked in
    // every_event_source_gets_its_trigger_in_both_layouts).
    let consumer = &state["functions"]["LogSinkFunction"];
    assert_eq!(consumer["role"], "LogSinkFunctionRole", "{consumer}");
    assert_eq!(
        consumer["role_policies"],
        serde_json::json!(["ReadsItsBatches"]),
        "{consumer}"
    );
    // The stack's own outputs; each function's resource name is in
    // `list --json` instead.
    let mut outputs: Vec<&String> = state["outputs"].as_object().unwrap().keys().collect();
    outputs.sort();
    assert_eq!(
        outputs,
        ["FailedRecordsQueueUrl", "Schedules", "StreamName"]
    );
    let stream = state["outputs"]["StreamName"].as_str().unwrap();
    assert_eq!(stream, "svc-dev-log");
    assert_eq!(
        state["functions"]["LogEventFunction"]["environment"]["STREAM_NAME"],
        stream
    );
    let mappings = state["mappings"].as_array().unwrap();
    assert_eq!(mappings.len(), 1, "{mappings:?}");
    assert_eq!(mappings[0]["function"], "LogSinkFunction");
    assert!(
        mappings[0]["source"]
            .as_str()
            .unwrap()
            .ends_with(":stream/svc-dev-log")
    );
    assert_eq!(
        mappings[0]["response_types"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
    assert_eq!(mappings[0]["retries"], 3);
    assert!(
        mappings[0]["on_failure"]
            .as_str()
            .unwrap()
            .ends_with(":svc-dev-failed")
    );
    // The producer's EventBridge events that still fail after Lambda's
    // retries go to the same queue.
    assert!(
        state["functions"]["LogEventFunction"]["async_on_failure"]
            .as_str()
            .unwrap()
            .ends_with(":svc-dev-failed"),
        "{state}"
    );
    assert_eq!(
        state["functions"]["LogSinkFunction"]["async_on_failure"],
        serde_json::Value::Null
    );

    // The code-only fast path: a changed handler's new zip, and only it.
    let module = root.join("producers/log_event/producers.py");
    let code = fs::read_to_string(&module).unwrap();
    fs::write(&module, format!("{code}\n# changed\n")).unwrap();
    build_all(&root);
    let out = aws.deploy_sh(&root, &["--code-only", "dev", "log_event"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).starts_with("updated 1 of 1 in svc-dev (us-east-1):\n  log_event ("),
        "{}",
        stdout(&out)
    );
    let after = aws.state(&root);
    let sha = |state: &serde_json::Value, logical: &str| {
        state["functions"][logical]["code_sha256"].clone()
    };
    assert_ne!(
        sha(&after, "LogEventFunction"),
        sha(&state, "LogEventFunction")
    );
    assert_eq!(
        sha(&after, "LogSinkFunction"),
        sha(&state, "LogSinkFunction")
    );

    ok(&root, &["add-handler", "consumers", "audit"]);
    build_all(&root);
    // Not deployed yet: the fast path names it and fails, the others go.
    let out = aws.deploy_sh(&root, &["--code-only", "dev"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("updated 2 of 3 in svc-dev"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out)
            .contains("  audit (not in stack svc-dev: deploy it with sam deploy --config-env dev)"),
        "{}",
        stderr(&out)
    );
    let state = aws.deploy(&root);
    assert_eq!(state["status"], "UPDATE_COMPLETE", "{state}");
    assert_eq!(
        function_names(&state),
        ["AuditFunction", "LogEventFunction", "LogSinkFunction"]
    );
    assert_eq!(
        state["functions"]["AuditFunction"]["handler"],
        "consumers.audit"
    );
    let mapped: Vec<&str> = state["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["function"].as_str().unwrap())
        .collect();
    assert!(mapped.contains(&"AuditFunction"), "{mapped:?}");

    ok(&root, &["remove-handler", "consumers", "audit"]);
    let state = aws.deploy(&root);
    assert_eq!(state["status"], "UPDATE_COMPLETE", "{state}");
    assert_eq!(
        function_names(&state),
        ["LogEventFunction", "LogSinkFunction"]
    );
    assert_eq!(state["mappings"].as_array().unwrap().len(), 1);
}

/// A stand-in for the AWS SAM CLI: keeps its arguments, the credentials it
/// was given and the zips it would upload, in `$SAM_CALL`.
const FAKE_SAM: &str = r#"#!/bin/sh
{
    echo "$*"
    echo "$AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN"
    for zip in target/*.zip; do echo "$zip"; done
} >"$SAM_CALL"
"#;

/// The real AWS CLI (`$REAL_AWS`), its arguments kept in `$AWS_CALLS` and
/// its answers in `$AWS_ANSWERS`.
const RECORDED_AWS: &str = r#"#!/usr/bin/env bash
set -o pipefail
echo "$*" >>"$AWS_CALLS"
"$REAL_AWS" "$@" | tee -a "$AWS_ANSWERS"
"#;

/// GitLab's deploy jobs, their `script` run as the runner runs it (bash,
/// `set -eo pipefail`) in a built project, on a stand-in AWS, with a runner
/// that has AWS credentials of its own and a stand-in `sam` first on PATH:
/// the job assumes the environment's role with its ID token, and `sam deploy`
/// of its samconfig.toml environment runs with exactly the credentials STS
/// answered, the zips built. A role that cannot be assumed, or a missing
/// token, stops the job before `sam`.
#[test]
fn the_gitlab_deploy_jobs_run_sam_deploy_as_the_role_their_oidc_token_assumes() {
    let Some(aws) = StandInAws::start() else {
        return;
    };
    let (dir, root) = project("svc", &["--ci", "gitlab", "--python", "3.12"]);
    build_all(&root);
    let bin = dir.path().join("bin");
    fs::create_dir(&bin).unwrap();
    for (name, text) in [("sam", FAKE_SAM), ("aws", RECORDED_AWS)] {
        write_file(&bin, name, text);
        fs::set_permissions(bin.join(name), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let real_aws = tool("cfn-lint")
        .expect("checked in start")
        .with_file_name("aws");
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        real_aws.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let logs = |name: &str| dir.path().join(name);
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGgifQ.c2lnbmF0dXJl";
    let run_job = |job: &str, envs: &[(&str, &str)]| {
        for log in ["sam.log", "calls.log", "answers.log"] {
            let _ = fs::remove_file(logs(log));
        }
        let script = ci_job_script(&root, ".gitlab-ci.yml", job).expect("checked in start");
        let mut command = aws.command(Path::new("bash"));
        command
            .args(["-eo", "pipefail", "-c", &script])
            .current_dir(&root)
            .env("PATH", &path)
            .env("REAL_AWS", &real_aws)
            .env("SAM_CALL", logs("sam.log"))
            .env("AWS_CALLS", logs("calls.log"))
            .env("AWS_ANSWERS", logs("answers.log"))
            // The runner's own credentials, which the deploy must not use.
            .env("AWS_ACCESS_KEY_ID", "runner-key")
            .env("AWS_SECRET_ACCESS_KEY", "runner-secret")
            .env("AWS_ID_TOKEN", token)
            .env("CI_PROJECT_ID", "42")
            .env("CI_JOB_ID", "7")
            .envs(envs.iter().copied());
        let out = command.output().expect("bash runs");
        let read = |name: &str| fs::read_to_string(logs(name)).ok();
        (out, read("sam.log"), read("calls.log"), read("answers.log"))
    };

    for environment in ["staging", "prod"] {
        let role = format!("arn:aws:iam::123456789012:role/svc-deploy-{environment}");
        let job = format!("deploy-{environment}");
        let (out, sam, calls, answers) = run_job(&job, &[("AWS_DEPLOY_ROLE_ARN", &role)]);
        assert!(
            out.status.success(),
            "{job}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let calls = calls.expect("the job calls STS");
        assert_eq!(calls.lines().count(), 1, "{calls}");
        assert!(
            calls.starts_with("sts assume-role-with-web-identity ")
                && calls.contains(&format!(" --role-arn {role} "))
                && calls.contains(&format!(" --web-identity-token {token} "))
                && calls.contains(" --role-session-name gitlab-42-7 "),
            "{calls}"
        );
        let answers = answers.expect("STS answered");
        let assumed: Vec<&str> = answers.split_whitespace().collect();
        assert_eq!(assumed.len(), 3, "{answers}");
        assert!(
            assumed[0].starts_with("ASIA"),
            "temporary credentials: {answers}"
        );
        let sam = sam.expect("the job runs sam");
        let sam: Vec<&str> = sam.lines().collect();
        assert_eq!(
            sam[0],
            format!("deploy --config-env {environment} --no-progressbar")
        );
        assert_eq!(sam[1], assumed.join(" "), "sam sees the role's credentials");
        assert_eq!(sam[2..], ["target/log_event.zip", "target/log_sink.zip"]);
    }

    // STS out of reach (as it refuses a token): the job stops before sam.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap();
    let role = "arn:aws:iam::123456789012:role/svc-deploy-staging";
    let (out, sam, calls, _) = run_job(
        "deploy-staging",
        &[
            ("AWS_DEPLOY_ROLE_ARN", role),
            ("AWS_ENDPOINT_URL", &format!("http://{closed}")),
            ("AWS_MAX_ATTEMPTS", "1"),
        ],
    );
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(calls.is_some_and(|c| c.starts_with("sts assume-role-with-web-identity")));
    assert_eq!(sam, None, "sam did not run");

    // No role set for the environment: said, and nothing called.
    let (out, sam, calls, _) = run_job("deploy-staging", &[("AWS_DEPLOY_ROLE_ARN", "")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error: `AWS_DEPLOY_ROLE_ARN` is not set"),
        "{}",
        stderr(&out)
    );
    assert_eq!((sam, calls), (None, None));
}

/// `sam validate --lint` (the AWS SAM CLI of the release whose build images
/// the project pins, offline, a region and no credentials) passes on a
/// template of each layout (one with the dependencies' layer), with handlers
/// of every event source; and fails on a template with a wrong value, so
/// that it is known to lint.
#[test]
fn sam_validate_lint_passes_on_a_template_of_each_layout() {
    let Some(sam) = tool("sam") else {
        return;
    };
    for (layout, arch, python, dependencies) in [
        ("log-centric", "x86_64", "3.13", "bundle"),
        ("web-stack", "arm64", "3.12", "layer"),
    ] {
        let (dir, root) = project(
            "svc",
            &[
                "--layout",
                layout,
                "--arch",
                arch,
                "--python",
                python,
                "--dependencies",
                dependencies,
            ],
        );
        let kinds: &[&str] = match layout {
            "web-stack" => &["handlers"],
            _ => &["producers", "consumers"],
        };
        for (i, source) in EVENT_SOURCES.iter().enumerate() {
            let name = format!("on_{}", source.replace('-', "_"));
            ok(
                &root,
                &[
                    "add-handler",
                    kinds[i % kinds.len()],
                    &name,
                    "--event",
                    source,
                ],
            );
        }
        let template = fs::read_to_string(root.join("template.yaml")).unwrap();
        let broken = template.replacen("MemorySize: 256", "MemorySize: 99999", 1);
        assert_ne!(broken, template);
        fs::write(dir.path().join("broken.yaml"), broken).unwrap();
        let validate = |template: &Path| {
            without_aws_credentials(&mut Command::new(&sam))
                .args(["validate", "--lint", "--template"])
                .arg(template)
                .current_dir(&root)
                .env("HOME", dir.path())
                .env("SAM_CLI_TELEMETRY", "0")
                .env("AWS_DEFAULT_REGION", "us-east-1")
                .output()
                .expect("sam runs")
        };
        let out = validate(&root.join("template.yaml"));
        assert!(
            out.status.success(),
            "{layout}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            stdout(&out).contains("is a valid SAM Template"),
            "{}",
            stdout(&out)
        );
        let out = validate(&dir.path().join("broken.yaml"));
        assert!(!out.status.success(), "{layout}: {}", stdout(&out));
        assert!(stdout(&out).contains("E3034"), "{layout}: {}", stdout(&out));
    }
}

/// Lambda's `CodeSha256` of a file: the base64 of its sha256.
fn code_sha256(path: &Path) -> String {
    let out = Command::new(common::build::python())
        .args([
            "-c",
            "import base64, hashlib, sys; \
             print(base64.b64encode(hashlib.sha256(open(sys.argv[1], 'rb').read()).digest()).decode())",
        ])
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// Asserts that the stack has a layer version holding `zip` and that every
/// function uses it; returns its ARN.
fn assert_functions_use_layer_of(state: &serde_json::Value, zip: &Path) -> String {
    let sha = code_sha256(zip);
    let arn = state["layers"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|versions| versions.as_array().unwrap())
        .find(|version| version["code_sha256"] == sha.as_str())
        .unwrap_or_else(|| panic!("no layer version holds {}: {state}", zip.display()))["arn"]
        .clone();
    for (logical, function) in state["functions"].as_object().unwrap() {
        assert_eq!(function["layers"], serde_json::json!([arn]), "{logical}");
    }
    arn.as_str().unwrap().to_string()
}

/// Layer mode on a stand-in AWS: the stack deploys the layer of the zip
/// build.sh wrote, for the manifest's runtime, and every function uses it;
/// the code-only fast path updates code while that layer is current, and
/// once the dependencies changed refuses, updating nothing, until
/// `sam deploy` publishes them. moto's CloudFormation leaves a function's
/// `Layers` out: tests/support/moto_deploy.py sets them as CloudFormation
/// does, from the translated template, whose functions are asserted here to
/// reference the layer.
#[test]
fn a_layer_mode_stack_deploys_its_layer_and_the_fast_path_refuses_a_stale_one() {
    let Some(aws) = StandInAws::start() else {
        return;
    };
    let (dir, root) = project("svc", &["--dependencies", "layer", "--python", "3.12"]);
    let template = root.join("template.yaml");
    let translation = translated(std::slice::from_ref(&template)).expect("checked in start");
    let uses = assert_layer_follows_manifest(&translation[0], true, "3.12", "x86_64");
    let functions = translation[0]["functions"].as_object().unwrap();
    assert_eq!(functions.len(), 2);
    for function in functions.values() {
        assert_eq!(function["layers"], uses);
    }
    build_all(&root);
    let layer_zip = root.join("target/dependencies.zip");
    let state = aws.deploy(&root);
    assert_eq!(state["status"], "CREATE_COMPLETE", "{state}");
    let first = assert_functions_use_layer_of(&state, &layer_zip);
    let layers = state["layers"].as_object().unwrap();
    assert_eq!(layers.len(), 1, "{layers:?}");
    let versions = layers.values().next().unwrap().as_array().unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["runtimes"], serde_json::json!(["python3.12"]));

    // Only code changed: the fast path ships it.
    let module = root.join("producers/log_event/producers.py");
    let code = fs::read_to_string(&module).unwrap();
    fs::write(&module, format!("{code}\n# changed\n")).unwrap();
    build_all(&root);
    let out = aws.deploy_sh(&root, &["--code-only", "dev"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).starts_with("updated 2 of 2 in svc-dev (us-east-1):\n"),
        "{}",
        stdout(&out)
    );

    // The dependencies changed: the zips lack the new ones, so nothing goes.
    let wheels = dir.path().join("wheels");
    fs::create_dir(&wheels).unwrap();
    common::build::make_wheel(
        &wheels,
        &["lsdemo_dep", "1.0", "py3-none-any", "--init", "X = 42\n"],
    );
    fs::write(root.join("requirements.txt"), "lsdemo_dep\n").unwrap();
    common::build::lock_from(&root, &wheels);
    let extra = format!("--no-index --find-links {}", wheels.display());
    common::build::build_ok(&root, &["--all", "--local"], &[("PIP_EXTRA_ARGS", &extra)]);
    let deployed = aws.state(&root);
    let before = snapshot(&root);
    let out = aws.deploy_sh(&root, &["--code-only", "dev"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).starts_with(
            "error: the functions of log_event, log_sink in stack `svc-dev` run without `target/dependencies.zip` as built now"
        ),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("\nhint: deploy with `sam deploy --config-env dev`, which publishes the layer and points every function at it; nothing was updated\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "no function was updated");
    assert_eq!(
        snapshot(&root),
        before,
        "the refusal leaves the tree as it was"
    );
    assert_eq!(aws.state(&root)["functions"], deployed["functions"]);

    // `sam deploy` publishes the layer and points every function at it.
    let state = aws.deploy(&root);
    assert_eq!(state["status"], "UPDATE_COMPLETE", "{state}");
    let second = assert_functions_use_layer_of(&state, &layer_zip);
    assert_ne!(second, first);
    let out = aws.deploy_sh(&root, &["--code-only", "dev", "log_sink"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    // A function that lost its layer is refused by name, not an AWS CLI error.
    let function = aws.aws(&[
        "cloudformation",
        "describe-stack-resource",
        "--stack-name",
        "svc-dev",
        "--logical-resource-id",
        "LogSinkFunction",
        "--query",
        "StackResourceDetail.PhysicalResourceId",
        "--output",
        "text",
    ]);
    aws.aws(&[
        "lambda",
        "update-function-configuration",
        "--function-name",
        function.trim(),
        "--layers",
        "[]",
    ]);
    let before = snapshot(&root);
    let out = aws.deploy_sh(&root, &["--code-only", "dev", "log_sink"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).starts_with("error: the functions of log_sink in stack `svc-dev` run without"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        snapshot(&root),
        before,
        "the refusal leaves the tree as it was"
    );
}

/// `./deploy.sh` without names deploys what `./build.sh --list` lists: a
/// manifest build.sh refuses stops it with build.sh's error, before any
/// AWS call (it reported "updated 0 of 0" and exit 0).
#[test]
fn the_fast_path_stops_on_a_manifest_build_sh_refuses() {
    let (_dir, root) = project("svc", &[]);
    let manifest = root.join("lambdas.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        text.replacen("name = \"log_sink\"", "name = \"\"\"log_sink\"\"\"", 1),
    )
    .unwrap();
    let before = snapshot(&root);
    let out = Command::new(root.join("deploy.sh"))
        .args(["--code-only", "dev"])
        .current_dir(&root)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("lambdas.toml"), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "nothing was updated");
    assert_eq!(snapshot(&root), before);
}

/// A web-stack project costs 2 resources (the HTTP API and its stage) and
/// each handler 5 (function, role, log group, a permission per route): 79
/// handlers make 397 resources, 80 make 402, past 80% of 500.
#[test]
fn check_warns_when_the_stack_nears_cloudformations_resource_limit() {
    let (_dir, root) = project("big", &["--layout", "web-stack"]);
    for n in 1..79 {
        ok(&root, &["add-handler", "handlers", &format!("page_{n}")]);
    }
    let out = ok(&root, &["check"]);
    assert!(!stdout(&out).contains("warning:"), "{}", stdout(&out));
    ok(&root, &["add-handler", "handlers", "page_79"]);
    let out = ok(&root, &["check"]);
    assert!(
        stdout(&out).contains("warning: template.yaml: the stack would hold 402 resources, 80% of CloudFormation's limit of 500"),
        "{}",
        stdout(&out)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&ok(&root, &["check", "--json"]).stdout).unwrap();
    assert_eq!(json["ok"], true, "a warning is no problem");
    assert_eq!(json["warnings"][0]["code"], "near-stack-limit");
    let template = root.join("template.yaml");
    cfn_lint(std::slice::from_ref(&template));
    if let Some(results) = translated(std::slice::from_ref(&template)) {
        assert_eq!(results[0]["resources"], 402);
    }
}
