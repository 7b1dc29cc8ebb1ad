//! Helpers shared by the integration tests that drive the `engram` binary (each test crate
//! uses some of them).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the `engram` binary built for these tests.
pub fn engram(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_engram")).args(args).output().expect("run engram")
}

/// The stdout of a run that must have succeeded (panics with both streams otherwise, at the
/// caller's line).
#[track_caller]
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `engram args` and returns its stdout; it must succeed (see [`ok`]).
#[track_caller]
pub fn engram_ok(args: &[&str]) -> String {
    ok(engram(args))
}

/// A fresh, empty temporary directory `engram-<kind>-<pid>-<name>`.
pub fn scratch(kind: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("engram-{kind}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
