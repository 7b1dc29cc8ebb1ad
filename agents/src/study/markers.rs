//! Job markers: the files in a job's output directory that say where it is.

use crate::io::atomic_write;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Written atomically once every output of the job exists.
pub const DONE_MARKER: &str = "done.json";
/// Written when a job starts (pid, host, time).
pub const RUNNING_MARKER: &str = "running.json";
/// Written when a job fails (the error).
pub const FAILED_MARKER: &str = "failed.json";

/// Where a job is, as far as its markers tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Done marker present.
    Done,
    /// Running marker present and its process alive (or, on a cluster, the scheduler says so).
    Running,
    /// Failed marker present, or started and no longer running without a done marker.
    Failed,
    /// Never started.
    Pending,
}

impl JobState {
    /// The state's name as `engram status` prints it (`done`, `running`, `failed`, `pending`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Running => "running",
            Self::Failed => "failed",
            Self::Pending => "pending",
        }
    }
}

/// The markers of one job directory.
#[derive(Debug, Clone)]
pub struct Markers {
    dir: PathBuf,
}

/// Contents of the running marker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunningInfo {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// Slurm job id of the array task, if any.
    pub slurm_job: Option<String>,
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// Whether process `pid` exists and is not a zombie (a killed process lingers as one).
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
            !matches!(state, Some("Z") | Some("X") | None)
        }
        Err(_) => false,
    }
}

impl Markers {
    /// Markers of the job directory `dir`.
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    /// Path of a marker.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The done marker's JSON, if present and readable.
    pub fn done(&self) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.path(DONE_MARKER)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The failure message, if the failed marker exists.
    pub fn failure(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.path(FAILED_MARKER)).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        Some(v["error"].as_str().unwrap_or("unknown error").to_string())
    }

    /// The running marker, if present.
    pub fn running(&self) -> Option<RunningInfo> {
        serde_json::from_str(&std::fs::read_to_string(self.path(RUNNING_MARKER)).ok()?).ok()
    }

    /// State from the markers alone. A running marker whose process is on this host and gone
    /// counts as failed (killed); one from another host counts as running (the caller asks the
    /// scheduler).
    pub fn state(&self) -> JobState {
        if self.path(DONE_MARKER).exists() {
            return JobState::Done;
        }
        if self.path(FAILED_MARKER).exists() {
            return JobState::Failed;
        }
        match self.running() {
            Some(r) if r.host == hostname() && !process_alive(r.pid) => JobState::Failed,
            Some(_) => JobState::Running,
            None => JobState::Pending,
        }
    }

    /// Marks the job started by this process (clearing an old failure).
    pub fn start(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let _ = std::fs::remove_file(self.path(FAILED_MARKER));
        let info =
            RunningInfo { pid: std::process::id(), host: hostname(), slurm_job: std::env::var("SLURM_JOB_ID").ok() };
        atomic_write(&self.path(RUNNING_MARKER), serde_json::to_string(&info).expect("serializes").as_bytes())
    }

    /// Marks the job done with `summary` (written last, atomically).
    pub fn finish(&self, summary: &serde_json::Value) -> std::io::Result<()> {
        atomic_write(&self.path(DONE_MARKER), serde_json::to_string_pretty(summary).expect("serializes").as_bytes())?;
        let _ = std::fs::remove_file(self.path(RUNNING_MARKER));
        Ok(())
    }

    /// Marks the job failed with `error`.
    pub fn fail(&self, error: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let v = serde_json::json!({ "error": error, "host": hostname(), "pid": std::process::id() });
        atomic_write(&self.path(FAILED_MARKER), serde_json::to_string_pretty(&v).expect("serializes").as_bytes())?;
        let _ = std::fs::remove_file(self.path(RUNNING_MARKER));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        let dir = std::env::temp_dir().join(format!("engram-markers-{}", std::process::id()));
        let m = Markers::new(&dir);
        assert_eq!(m.state(), JobState::Pending);
        m.start().unwrap();
        assert_eq!(m.state(), JobState::Running, "this process is alive");
        m.fail("boom").unwrap();
        assert_eq!(m.state(), JobState::Failed);
        assert_eq!(m.failure().as_deref(), Some("boom"));
        m.start().unwrap();
        assert_eq!(m.state(), JobState::Running, "a restart clears the failure");
        m.finish(&serde_json::json!({"ok": true})).unwrap();
        assert_eq!(m.state(), JobState::Done);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dead_process_is_not_running() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(u32::MAX - 1));
    }
}
