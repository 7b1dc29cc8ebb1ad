//! Env steps/s: one env, and a vector env sequentially, on 1 and 2 rayon threads, and with
//! the automatic choice ([`Execution::Auto`]) on 2 threads.

use super::median;
use crate::error::AgentError;
use engram_envs::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::time::Instant;

/// What to measure.
#[derive(Debug, Clone)]
pub struct EnvBench {
    /// Env id.
    pub env: String,
    /// Env config (JSON; `{}` for the defaults).
    pub config: serde_json::Value,
    /// Env steps per timed run.
    pub steps: usize,
    /// Envs in the vector env.
    pub n_envs: usize,
    /// Timed runs per configuration (after one warm-up run).
    pub repeats: usize,
}

/// The rates of one configuration.
#[derive(Debug, Clone, Serialize)]
pub struct EnvBenchRow {
    /// Which configuration.
    pub configuration: String,
    /// Median env steps/s.
    pub median_steps_per_s: f64,
    /// Every timed run's steps/s.
    pub runs: Vec<f64>,
}

/// Pre-generated random actions, `[n, act_dim]`, so sampling is not timed.
fn actions(space: &Space, n: usize) -> Vec<f32> {
    space.sample_n(&mut ChaCha8Rng::seed_from_u64(0), n)
}

impl EnvBench {
    /// Measures the five configurations.
    pub fn run(&self) -> Result<Vec<EnvBenchRow>, AgentError> {
        if self.steps == 0 || self.n_envs == 0 || self.repeats == 0 {
            return Err(AgentError::Config(format!(
                "--steps {}, --n-envs {} and --repeats {}: each must be >= 1",
                self.steps, self.n_envs, self.repeats
            )));
        }
        let n = self.n_envs;
        let rows = vec![
            ("single env".to_string(), self.single()?),
            (format!("vector x{n} sequential"), self.vector(Execution::Sequential, None)?),
            (format!("vector x{n} rayon 1 thread"), self.vector(Execution::Parallel { min_chunk: 0 }, Some(1))?),
            (format!("vector x{n} rayon 2 threads"), self.vector(Execution::Parallel { min_chunk: 0 }, Some(2))?),
            (format!("vector x{n} auto 2 threads"), self.vector(Execution::Auto, Some(2))?),
        ];
        let mut rows = rows;
        if let Some(last) = rows.last_mut() {
            let chose = self.auto_choice()?;
            last.0.push_str(if chose { " (chose rayon)" } else { " (chose sequential)" });
        }
        Ok(rows
            .into_iter()
            .map(|(configuration, runs)| EnvBenchRow { configuration, median_steps_per_s: median(&runs), runs })
            .collect())
    }

    /// What [`Execution::Auto`] on 2 threads chooses for this env after its probe steps.
    fn auto_choice(&self) -> Result<bool, AgentError> {
        let mut v = VectorEnv::from_fn(self.n_envs, Autoreset::SameStep, Execution::Auto, |_| {
            make_with(&self.env, &self.config)
        })?
        .with_threads(2)?;
        let acts = actions(v.single_action_space(), self.n_envs);
        v.reset(Some(0))?;
        while v.auto_parallel().is_none() {
            v.step_in_place(&acts)?;
        }
        Ok(v.auto_parallel() == Some(true))
    }

    fn single(&self) -> Result<Vec<f64>, AgentError> {
        let mut env = make_with(&self.env, &self.config)?;
        let space = env.action_space().clone();
        let d = space.flat_dim();
        let n_actions = 65_536;
        let acts = actions(&space, n_actions);
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        let mut info = Info::new();
        let opts = ResetOptions::default();
        let mut rates = vec![];
        for r in 0..=self.repeats {
            env.reset_into(Some(0), &opts, &mut obs, &mut info)?;
            let t0 = Instant::now();
            for t in 0..self.steps {
                let k = t % n_actions;
                let o = env.step_into(&acts[k * d..(k + 1) * d], &mut obs, &mut info)?;
                if o.done() {
                    env.reset_into(None, &opts, &mut obs, &mut info)?;
                }
            }
            let rate = self.steps as f64 / t0.elapsed().as_secs_f64();
            if r > 0 {
                rates.push(rate); // run 0 warms caches and the branch predictor
            }
        }
        Ok(rates)
    }

    fn vector(&self, exec: Execution, threads: Option<usize>) -> Result<Vec<f64>, AgentError> {
        let mut v = VectorEnv::from_fn(self.n_envs, Autoreset::SameStep, exec, |_| make_with(&self.env, &self.config))?;
        if let Some(t) = threads {
            v = v.with_threads(t)?;
        }
        let space = v.single_action_space().clone();
        let batches = 256;
        let acts = actions(&space, batches * self.n_envs);
        let width = self.n_envs * space.flat_dim();
        let iters = (self.steps / self.n_envs).max(1);
        let mut rates = vec![];
        for r in 0..=self.repeats {
            v.reset(Some(0))?;
            let t0 = Instant::now();
            for t in 0..iters {
                let k = t % batches;
                v.step_in_place(&acts[k * width..(k + 1) * width])?;
            }
            let rate = (iters * self.n_envs) as f64 / t0.elapsed().as_secs_f64();
            if r > 0 {
                rates.push(rate);
            }
        }
        Ok(rates)
    }
}

/// The rows as the aligned table `engram bench env` prints.
pub fn table(env: &str, repeats: usize, steps: usize, rows: &[EnvBenchRow]) -> String {
    let mut s = format!("{env} — env steps/s, median of {repeats} runs of {steps} steps\n");
    s.push_str(&format!("{:<32} {:>14} {:>14} {:>14}\n", "configuration", "median", "min", "max"));
    for r in rows {
        let (min, max) = r.runs.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        s.push_str(&format!("{:<32} {:>14.0} {:>14.0} {:>14.0}\n", r.configuration, r.median_steps_per_s, min, max));
    }
    s
}
