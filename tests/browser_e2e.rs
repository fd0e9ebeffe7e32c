//! Runs the chat example's end-to-end browser tests (`node --test e2e/`), so
//! that `cargo test` covers the page, the JavaScript client and the Rust
//! server together in headless Chromium.
//!
//! Builds nothing itself: it drives the `chat` example binary that `cargo
//! test` has just built next to this test (`target/<profile>/examples/chat`).
//! Needs `node` (20 or later), `/usr/bin/chromium` (or `$CHROMIUM`) and
//! `e2e/node_modules` (`npm ci --prefix e2e`); `.ci/run` installs them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The chat example built by this `cargo test`: this test runs from
/// `target/<profile>/deps/`, the examples are in `target/<profile>/examples/`.
fn chat_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps");
    profile_dir
        .join("examples")
        .join(format!("chat{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn chat_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chat = chat_binary();
    assert!(
        chat.is_file(),
        "no chat example at {}: run the whole suite (`cargo test --all-features`), which builds \
         the examples, or `cargo build --example chat` first.",
        chat.display()
    );
    let chromium = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        chromium.is_file(),
        "no Chromium at {}: the browser tests need Debian's chromium \
         (`apt-get install -y chromium`, as .ci/run does), or set CHROMIUM to another build.",
        chromium.display()
    );
    assert!(
        root.join("e2e/node_modules/playwright-core").is_dir(),
        "e2e/node_modules is missing: run `npm ci --prefix e2e` (as .ci/run does)."
    );
    let output = match Command::new("node")
        .args(["--test", "--test-reporter=tap", "e2e/"])
        .current_dir(root)
        .env("CHAT_BIN", &chat)
        .env("CHROMIUM", &chromium)
        .output()
    {
        Ok(output) => output,
        Err(e) => panic!(
            "could not run `node --test e2e/`: {e}. The browser tests need Node.js 20 or later \
             on the PATH (https://nodejs.org/)."
        ),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`node --test e2e/` failed ({}):\n{stdout}\n{stderr}",
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
        "`node --test e2e/` ran no tests:\n{stdout}\n{stderr}"
    );
}
