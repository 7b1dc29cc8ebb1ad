//! Recorded rollouts of a run (the files of `engram record`), recorded on demand and reused
//! when a recording with the same checkpoint, episodes and seeds exists; and the states a
//! cell reaches when driven by a given observation sequence.

use super::agent::ProbedAgent;
use super::output::read_npy;
use super::{fs_err, io_err};
use crate::error::AgentError;
use crate::policy::ActMode;
use crate::probe::Matrix;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A recording: deterministic episodes of one policy.
#[derive(Debug, Clone)]
pub struct Rollouts {
    /// Where it lives.
    pub dir: PathBuf,
    /// Observation width.
    pub obs_dim: usize,
    /// Raw observations `[N, obs_dim]`, rows in (episode, step) order.
    pub obs: Vec<f32>,
    /// Episode index per row `[N]`.
    pub episode: Vec<u64>,
    /// Info keys.
    pub info_keys: Vec<String>,
    /// Info values `[N, n_keys]`.
    pub info: Vec<f64>,
    /// Episode returns.
    pub returns: Vec<f64>,
}

fn manifest_matches(dir: &Path, checkpoint: &Path, episodes: usize, seed: u64) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("manifest.json")) else { return false };
    let Ok(m) = serde_json::from_str::<serde_json::Value>(&text) else { return false };
    m["checkpoint"].as_str() == Some(&checkpoint.display().to_string())
        && m["episodes"].as_u64() == Some(episodes as u64)
        && m["seeds"][0].as_u64() == Some(seed)
        && m["deterministic"].as_bool() == Some(true)
}

impl Rollouts {
    /// The recording in `dir` if it was made from `agent`'s checkpoint with `episodes`
    /// deterministic episodes from `seed`; otherwise records it there first.
    pub fn record_or_reuse(agent: &ProbedAgent, dir: &Path, episodes: usize, seed: u64) -> Result<Self, AgentError> {
        if episodes == 0 {
            return Err(AgentError::Probe("episodes = 0: record at least one episode".into()));
        }
        if !manifest_matches(dir, &agent.policy.dir, episodes, seed) {
            crate::run::record::record(&agent.policy, episodes, seed, ActMode::Deterministic, dir)?;
        }
        Self::load(dir)
    }

    /// Reads a recording written by `engram record`.
    pub fn load(dir: &Path) -> Result<Self, AgentError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| fs_err(&path, e))?;
        let m: serde_json::Value = serde_json::from_str(&text).map_err(|e| io_err(&path, e))?;
        let (shape, obs) = read_npy::<f32>(&dir.join("obs.npy"))?;
        let (_, episode) = read_npy::<u64>(&dir.join("episode.npy"))?;
        let (_, info) = read_npy::<f64>(&dir.join("info.npy"))?;
        let info_keys = m["info_keys"]
            .as_array()
            .map(|a| a.iter().filter_map(|k| k.as_str().map(String::from)).collect())
            .unwrap_or_default();
        let returns =
            m["returns"].as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default();
        let obs_dim = shape.get(1).copied().unwrap_or(0) as usize;
        if episode.len() * obs_dim != obs.len() {
            return Err(io_err(&dir.join("obs.npy"), "rows do not match episode.npy"));
        }
        Ok(Self { dir: dir.to_path_buf(), obs_dim, obs, episode, info_keys, info, returns })
    }

    /// Number of rows (steps over all episodes).
    pub fn rows(&self) -> usize {
        self.episode.len()
    }

    /// Row ranges of the episodes, in order.
    pub fn episode_ranges(&self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 1..=self.rows() {
            if i == self.rows() || self.episode[i] != self.episode[start] {
                out.push(start..i);
                start = i;
            }
        }
        out
    }

    /// The column of info key `key` `[N]`.
    pub fn info_column(&self, key: &str) -> Option<Vec<f64>> {
        let k = self.info_keys.iter().position(|x| x == key)?;
        let w = self.info_keys.len();
        Some((0..self.rows()).map(|i| self.info[i * w + k]).collect())
    }

    /// Observations of rows `range` (flat `[len, obs_dim]`).
    pub fn obs_rows(&self, range: Range<usize>) -> &[f32] {
        &self.obs[range.start * self.obs_dim..range.end * self.obs_dim]
    }
}

/// The states `agent`'s cell reaches after each step when driven from a zero state (at each
/// episode start) by the raw observations `obs` `[N, obs_dim]`, episodes given by `ranges`:
/// `[N, state_dim]` (LSTM: `[h, c]`).
pub fn driven_states(agent: &ProbedAgent, obs: &[f32], obs_dim: usize, ranges: &[Range<usize>]) -> Matrix {
    let s = agent.map.state_dim();
    let n = ranges.iter().map(|r| r.end).max().unwrap_or(0);
    let mut out = Matrix::zeros(n, s);
    for r in ranges {
        let x = agent.cell_inputs(&obs[r.start * obs_dim..r.end * obs_dim], r.len());
        let states = agent.map.drive(&x);
        out.data_mut()[r.start * s..r.end * s].copy_from_slice(states.data());
    }
    out
}
