//! `list` and `completions`, end to end: the table and the JSON schema of both
//! layouts, from anywhere in the project, and the completion scripts.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use serde_json::Value;

fn list_json(cwd: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["list", "--json"];
    args.extend_from_slice(extra);
    let out = ok(cwd, &args);
    serde_json::from_slice(&out.stdout).expect("list --json prints JSON")
}

fn handler_strings(listing: &Value) -> Vec<String> {
    listing["lambdas"]
        .as_array()
        .expect("lambdas is a list")
        .iter()
        .map(|l| {
            l["handler"]
                .as_str()
                .expect("handler is a string")
                .to_string()
        })
        .collect()
}

#[test]
fn json_follows_the_documented_schema_for_both_layouts() {
    let (_dir, root) = project("svc", &["--arch", "arm64"]);
    let listing = list_json(&root, &[]);
    assert_eq!(listing["schema_version"], 1);
    assert_eq!(listing["project"], "svc");
    assert_eq!(listing["layout"], "log-centric");
    assert_eq!(listing["python"], "3.13");
    assert_eq!(listing["arch"], "arm64");
    assert_eq!(listing["ci"], "gitlab");
    // No `dependencies` setting: bundled.
    assert_eq!(listing["dependencies"], "bundle");
    assert_eq!(
        Path::new(listing["root"].as_str().unwrap()),
        root.canonicalize().unwrap()
    );
    assert_eq!(
        listing["lambdas"][0],
        serde_json::json!({
            "kind": "producers",
            "name": "log_event",
            "event": "eventbridge",
            "handler": "producers.log_event",
            "source": "producers/log_event",
            "test": "test/producers/log_event",
            "zip": "target/log_event.zip",
            "build": "./build.sh log_event ./producers/log_event",
            "function_resource": "LogEventFunction",
            "requirements": null,
        })
    );
    assert_eq!(
        handler_strings(&listing),
        ["producers.log_event", "consumers.log_sink"]
    );

    let (_dir, web) = project("site", &["--layout", "web-stack"]);
    ok(&web, &["add-handler", "handler", "OrderStatus"]);
    let listing = list_json(&web, &[]);
    assert_eq!(listing["layout"], "web-stack");
    assert_eq!(
        handler_strings(&listing),
        ["handlers.index", "handlers.order_status"]
    );
}

#[test]
fn the_table_has_one_aligned_row_per_lambda() {
    let (_dir, root) = project("svc", &[]);
    let text = stdout(&ok(&root, &["list"]));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for column in ["KIND", "NAME", "HANDLER", "SOURCE", "TEST", "ZIP", "BUILD"] {
        assert!(lines[0].contains(column), "{text}");
    }
    let start = lines[0].find("HANDLER").unwrap();
    assert_eq!(&lines[1][start..start + 19], "producers.log_event");
    assert_eq!(&lines[2][start..start + 18], "consumers.log_sink");
    let build = lines[0].find("BUILD").unwrap();
    assert_eq!(
        &lines[1][build..],
        "./build.sh log_event ./producers/log_event"
    );
    assert!(
        lines.iter().all(|l| !l.ends_with(' ')),
        "no trailing spaces:\n{text}"
    );
}

#[test]
fn works_from_a_subfolder_and_with_the_project_flag() {
    let (dir, root) = project("svc", &[]);
    let deep = list_json(&root.join("test/consumers/log_sink"), &[]);
    let outside = list_json(dir.path(), &["--project", "svc"]);
    assert_eq!(deep, outside);
    assert_eq!(handler_strings(&deep).len(), 2);
}

#[test]
fn a_bare_project_lists_no_lambdas_and_says_how_to_add_one() {
    let (_dir, root) = project("bare", &["--bare"]);
    assert!(stdout(&ok(&root, &["list"])).contains("lambda-scaffold add-handler producers NAME"));
    assert_eq!(list_json(&root, &[])["lambdas"], serde_json::json!([]));
}

#[test]
fn refuses_a_manifest_entry_that_names_no_lambda_of_the_project() {
    let (_dir, root) = project("svc", &[]);
    let manifest = root.join("lambdas.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        format!("{text}\n[[handlers]]\nkind = \"handlers\"\nname = \"index\"\n"),
    )
    .unwrap();
    let out = run(&root, &["list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "error: handler `handlers/index` in `lambdas.toml` has kind `handlers`, \
             which is not part of a log-centric project\n"
        ),
        "{err}"
    );
    assert!(err.contains("\nhint: "), "{err}");
}

#[test]
fn refuses_to_run_outside_any_project() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not inside a lambda-scaffold project"));
}

#[test]
fn completions_are_printed_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    let bash = stdout(&ok(dir.path(), &["completions", "bash"]));
    for command in ["add-handler", "remove-handler", "invoke", "check", "list"] {
        assert!(bash.contains(command), "bash completion lacks {command}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = stdout(&ok(dir.path(), &["completions", shell]));
        assert!(script.contains("add-handler"), "{shell}");
    }
    assert_eq!(
        run(dir.path(), &["completions", "tcsh"]).status.code(),
        Some(2)
    );
}

/// What bash offers after `words` (the last one is completed), with the
/// script `completions bash` prints loaded.
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    let bash = tool("bash").expect("bash");
    let words_list = words
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let program = format!(
        "source '{}'; COMP_WORDS=({words_list}); COMP_CWORD={}; \
         _lambda__scaffold lambda-scaffold '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = std::process::Command::new(bash)
        .arg("-c")
        .arg(program)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_subcommand_options_and_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("lambda-scaffold.bash");
    fs::write(&script, ok(dir.path(), &["completions", "bash"]).stdout).unwrap();
    assert_eq!(
        bash_completes(&script, &["lambda-scaffold", "new-project", "--la"]),
        ["--layout"]
    );
    assert_eq!(
        bash_completes(&script, &["lambda-scaffold", "new-project", "--layout", ""]),
        ["log-centric", "web-stack"]
    );
    assert!(
        bash_completes(&script, &["lambda-scaffold", "add-handler", "--"])
            .contains(&"--force".to_string())
    );
}

#[test]
fn json_gives_the_dependencies_mode_and_each_handlers_requirements() {
    let (_dir, root) = project("svc", &[]);
    let manifest = fs::read_to_string(root.join("lambdas.toml")).unwrap();
    let entry = "name = \"log_event\"\n";
    assert!(manifest.contains(entry), "{manifest}");
    let listed = manifest.replacen(
        entry,
        &format!("{entry}requirements = [\"requests\", 'PyYAML']\n"),
        1,
    );
    fs::write(root.join("lambdas.toml"), &listed).unwrap();
    let listing = list_json(&root, &[]);
    assert_eq!(listing["dependencies"], "bundle");
    let requirements: Vec<&Value> = listing["lambdas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|lambda| &lambda["requirements"])
        .collect();
    assert_eq!(
        requirements,
        [&serde_json::json!(["requests", "PyYAML"]), &Value::Null]
    );
    for (setting, mode) in [
        ("dependencies = \"layer\"\n", "layer"),
        ("dependencies = \"bundle\"\n", "bundle"),
    ] {
        fs::write(root.join("lambdas.toml"), format!("{setting}{manifest}")).unwrap();
        assert_eq!(list_json(&root, &[])["dependencies"], mode, "{setting}");
    }
    let (_dir, layer) = project("lay", &["--dependencies", "layer"]);
    assert_eq!(list_json(&layer, &[])["dependencies"], "layer");
}

/// `deploy.sh` spells a function's logical ID itself (with sed, from the
/// handler name): for names of every shape it is the one `list --json`
/// names, which is the tool's own spelling in template.yaml.
#[test]
fn deploy_sh_names_each_function_as_the_template_does() {
    let (_dir, root) = project("svc", &["--bare"]);
    for name in ["a_1b", "v2", "x_1_2", "abc_def_ghi", "a1_b2", "h_2x", "q"] {
        ok(&root, &["add-handler", "producers", name]);
    }
    let script = fs::read_to_string(root.join("deploy.sh")).unwrap();
    let start = script
        .find("resource() {")
        .expect("deploy.sh defines resource()");
    let end = start + script[start..].find("\n}\n").unwrap() + 3;
    let listed: Value = serde_json::from_slice(&ok(&root, &["list", "--json"]).stdout).unwrap();
    for lambda in listed["lambdas"].as_array().unwrap() {
        let name = lambda["name"].as_str().unwrap();
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("{}resource \"$1\"", &script[start..end]))
            .args(["bash", name])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), lambda["function_resource"], "{name}");
    }
}
