//! Files written so that a kill never leaves a half-written one.

use crate::error::AgentError;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: into a temporary file in the same directory, flushed
/// and synced, then renamed over `path`. Creates the parent directory if needed.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// [`atomic_write`] of a text file, the error naming the path.
pub fn write_text(path: &Path, text: &str) -> Result<(), AgentError> {
    atomic_write(path, text.as_bytes()).map_err(|e| AgentError::io(path, e))
}

/// [`atomic_write`] of a value as pretty-printed JSON (non-finite numbers become `null`).
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), AgentError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| AgentError::Data(format!("{}: {e}", path.display())))?;
    write_text(path, &text)
}

/// What a resumed run keeps of its metrics log: rewrites `dir/metrics.jsonl` and
/// `dir/metrics.csv` (atomically) with the CSV header and the complete rows whose `key` (the
/// JSON field; the CSV's first column) is at most `last`. A row cut short by a kill in the
/// middle of a write, or written after the checkpoint resumed from, is dropped.
pub fn keep_metrics_through(dir: &Path, key: &str, csv_header: &str, last: u64) -> Result<(), AgentError> {
    let columns = csv_header.split(',').count();
    let key_of = |line: &str| -> Option<u64> {
        if line.starts_with('{') {
            serde_json::from_str::<serde_json::Value>(line).ok()?[key].as_u64()
        } else if line.split(',').count() == columns {
            line.split(',').next()?.parse().ok()
        } else {
            None
        }
    };
    for path in [dir.join("metrics.jsonl"), dir.join("metrics.csv")] {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let kept: Vec<&str> =
            text.lines().filter(|&l| l == csv_header || key_of(l).is_some_and(|x| x <= last)).collect();
        let mut out = kept.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        write_text(&path, &out)?;
    }
    Ok(())
}

/// Reads and parses a JSON file, the error naming the path.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, AgentError> {
    let text = std::fs::read_to_string(path).map_err(|e| AgentError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| AgentError::Data(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_whole_files_and_leave_no_temp() {
        let dir = std::env::temp_dir().join(format!("engram-io-{}", std::process::id()));
        let path = dir.join("sub").join("a.json");
        atomic_write(&path, b"first").unwrap();
        atomic_write(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().filter_map(|e| e.ok()).collect();
        assert_eq!(leftovers.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
