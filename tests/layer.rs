//! Layer mode, run for real: with `dependencies = "layer"` in lambdas.toml,
//! `./build.sh --all --local` writes the locked dependencies once, into
//! `target/dependencies.zip` under `python/` (where Lambda puts a layer's
//! packages on the path), and function zips that hold only the project's code.

mod common;

use std::process::Command;

use common::build::*;
use common::*;

#[test]
fn layer_mode_puts_the_dependencies_in_one_layer_and_only_code_in_the_functions() {
    let (dir, root) = project("svc", &[]);
    add_setting(&root, "dependencies = \"layer\"");
    let extra = lock_wheels(dir.path(), &root, &[("lsdemo_dep", "X = 42\n")]);
    let out = build_ok(&root, &["--all", "--local"], &[("PIP_EXTRA_ARGS", &extra)]);
    assert!(out.contains("target/dependencies.zip"), "{out}");

    let layer = zip_names(&root.join("target/dependencies.zip"));
    assert!(layer.iter().all(|n| n.starts_with("python/")), "{layer:?}");
    assert!(
        layer.contains(&"python/lsdemo_dep/__init__.py".to_string()),
        "{layer:?}"
    );
    assert!(layer.contains(&"python/lsdemo_dep-1.0.dist-info/METADATA".to_string()));
    for (kind, name) in [("producers", "log_event"), ("consumers", "log_sink")] {
        let function = zip_names(&root.join(format!("target/{name}.zip")));
        assert!(
            function.contains(&format!("{kind}/{name}/{kind}.py")),
            "{function:?}"
        );
        assert!(
            function
                .iter()
                .all(|n| n.starts_with(&format!("{kind}/")) || n.starts_with("utils/")),
            "{name}.zip holds more than the project's code: {function:?}"
        );
    }
    // Lambda extracts a layer into /opt, whose python/ is on the path: the
    // handler's package and the dependency import together.
    let task = dir.path().join("task");
    let opt = dir.path().join("opt");
    let out = Command::new(python())
        .arg("-c")
        .arg(
            "import sys, zipfile\n\
             zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[3])\n\
             zipfile.ZipFile(sys.argv[2]).extractall(sys.argv[4])\n\
             sys.path[:0] = [sys.argv[3], sys.argv[4] + '/python']\n\
             import producers, lsdemo_dep\n\
             print(callable(producers.log_event), lsdemo_dep.X)",
        )
        .arg(root.join("target/log_event.zip"))
        .arg(root.join("target/dependencies.zip"))
        .arg(&task)
        .arg(&opt)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "True 42\n");

    // Nothing changed: nothing is rebuilt, the layer included.
    let again = build_ok(&root, &["--all", "--local"], &[("PIP_EXTRA_ARGS", &extra)]);
    assert_eq!(
        again.lines().filter(|l| l.ends_with("(unchanged)")).count(),
        3,
        "{again}"
    );
}

#[test]
fn a_dependencies_setting_other_than_bundle_or_layer_is_refused() {
    let (_dir, root) = project("svc", &[]);
    add_setting(&root, "dependencies = \"layers\"");
    let before = snapshot(&root);
    let out = build_sh(&root, &["--all", "--local"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(
            "error: `lambdas.toml` has no supported `dependencies` setting (`layers`)\nhint: "
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&root), before);
}
