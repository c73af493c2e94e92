//! The production build leaves the emulator out: without the `sandbox` feature the server's
//! normal dependency graph has no `play-emulator` (it stays a dev-dependency and the
//! sandbox's optional dependency).

use std::process::Command;

fn normal_dependencies(features: &[&str]) -> String {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--manifest-path",
            manifest,
            "-p",
            "pwa-billing-server",
        ])
        .args(["-e", "normal", "--prefix", "none", "--locked", "--offline"])
        .args(features)
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 tree")
}

#[test]
fn production_graph_has_no_emulator() {
    let production = normal_dependencies(&["--no-default-features"]);
    assert!(
        production.lines().any(|l| l.starts_with("play-model ")),
        "the tree lists the server's dependencies:\n{production}"
    );
    let emulator: Vec<&str> = production
        .lines()
        .filter(|l| l.starts_with("play-emulator "))
        .collect();
    assert!(
        emulator.is_empty(),
        "a production build links the emulator: {emulator:?}"
    );
    // The sandbox build does have it: the check above looks at the right name.
    let sandbox = normal_dependencies(&["--features", "sandbox"]);
    assert!(sandbox.lines().any(|l| l.starts_with("play-emulator ")));
}
