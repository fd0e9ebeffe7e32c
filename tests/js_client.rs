//! Runs the JavaScript client's test suite (`node --test` in `js/`), so that
//! `cargo test` covers the browser client too. Needs `node` (20 or later) on
//! the `PATH`; the tests use no network and no npm packages.

use std::path::Path;
use std::process::Command;

#[test]
fn js_client_tests_pass() {
    let js_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    let output = match Command::new("node")
        .args(["--test", "--test-reporter=tap", "test/"])
        .current_dir(&js_dir)
        .output()
    {
        Ok(output) => output,
        Err(e) => panic!(
            "could not run `node --test` in {}: {e}. The JavaScript client's tests need \
             Node.js 20 or later on the PATH (https://nodejs.org/).",
            js_dir.display()
        ),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`node --test test/` failed in {} ({}):\n{stdout}\n{stderr}",
        js_dir.display(),
        output.status
    );
    // A run that found no test files would also succeed: make sure it ran some.
    let passed = stdout
        .lines()
        .find_map(|line| line.strip_prefix("# pass "))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or(0);
    assert!(
        passed > 0,
        "`node --test` ran no tests:\n{stdout}\n{stderr}"
    );
}
