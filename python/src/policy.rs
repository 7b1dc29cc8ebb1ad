//! `engram._engram.Policy`: a trained checkpoint acting through engram's own forward pass.

use crate::convert::agent_err;
use engram_agents::policy::{ActMode, ActOutput, HiddenState, Policy};
use engram_agents::LoadedPolicy;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods, ToPyArray};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rand::SeedableRng;
use std::sync::Mutex;

/// A loaded policy: `act(obs, state) -> (actions, values, next_state)` on NumPy arrays.
///
/// Observations are raw env observations (the checkpoint's observation normalizer is
/// applied inside, as `engram eval` does). The hidden state is passed in and returned, so one
/// policy can drive any number of independent batches.
#[pyclass(name = "Policy", module = "engram._engram")]
pub struct PyPolicy {
    policy: LoadedPolicy,
    rng: Mutex<rand_chacha::ChaCha8Rng>,
}

#[pymethods]
impl PyPolicy {
    /// Loads the policy of a run directory, its `checkpoints/` directory or one checkpoint.
    #[new]
    #[pyo3(signature = (path, seed=0))]
    fn new(path: std::path::PathBuf, seed: u64) -> PyResult<Self> {
        let policy = engram_agents::load_policy(&path).map_err(agent_err)?;
        Ok(Self { policy, rng: Mutex::new(rand_chacha::ChaCha8Rng::seed_from_u64(seed)) })
    }

    /// Observation length.
    #[getter]
    fn obs_dim(&self) -> usize {
        self.policy.obs_dim()
    }

    /// Length of one action in the env's flat layout.
    #[getter]
    fn action_len(&self) -> usize {
        self.policy.action_len()
    }

    /// Width of one row of the hidden state (0 for a memoryless policy).
    #[getter]
    fn state_width(&self) -> usize {
        self.policy.net.state_width()
    }

    /// The env the policy was trained on.
    #[getter]
    fn env_id(&self) -> &str {
        &self.policy.config.env
    }

    /// The checkpoint directory that was loaded.
    #[getter]
    fn checkpoint(&self) -> String {
        self.policy.dir.display().to_string()
    }

    /// The run's resolved training config, as JSON text.
    fn config_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.policy.config).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// The env config of the run, as JSON text (pass it to `engram.make`).
    fn env_config_json(&self) -> String {
        self.policy.config.env_config_json().to_string()
    }

    /// The hidden-state layout: `(name, offset, len)` per slot.
    fn state_slots(&self) -> Vec<(String, usize, usize)> {
        self.policy.initial_state(1).slots.into_iter().map(|s| (s.name, s.offset, s.len)).collect()
    }

    /// A zero hidden state for `n` envs, `[n, state_width]`.
    fn initial_state<'py>(&self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let s = self.policy.initial_state(n);
        s.data.to_pyarray(py).reshape([n, s.width])
    }

    /// One batched step: `obs [n, obs_dim]` float32 and `state [n, state_width]` (or `None`
    /// for the zero state). Returns `(actions [n, action_len] f32, values [n] f32,
    /// next_state [n, state_width] f32)`; `deterministic=False` samples.
    #[pyo3(signature = (obs, state=None, deterministic=true))]
    #[allow(clippy::type_complexity)]
    fn act<'py>(
        &self,
        py: Python<'py>,
        obs: PyReadonlyArray2<'py, f32>,
        state: Option<PyReadonlyArray2<'py, f32>>,
        deterministic: bool,
    ) -> PyResult<(Bound<'py, PyArray2<f32>>, Bound<'py, PyArray1<f32>>, Bound<'py, PyArray2<f32>>)> {
        let (n, d) = (obs.shape()[0], obs.shape()[1]);
        if d != self.policy.obs_dim() {
            return Err(PyValueError::new_err(format!(
                "policy: observations have {d} columns, expected obs_dim = {}",
                self.policy.obs_dim()
            )));
        }
        let x: Vec<f32> = obs.as_array().iter().copied().collect();
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(PyValueError::new_err(format!(
                "policy: observation value {} at flat index {i} is not finite",
                x[i]
            )));
        }
        let mut hidden: HiddenState = self.policy.initial_state(n);
        if let Some(s) = state {
            if s.shape() != [n, hidden.width] {
                return Err(PyValueError::new_err(format!(
                    "policy: state has shape {:?}, expected [{n}, {}]",
                    s.shape(),
                    hidden.width
                )));
            }
            hidden.data = s.as_array().iter().copied().collect();
        }
        let mode = if deterministic { ActMode::Deterministic } else { ActMode::Sample };
        let mut out = ActOutput::default();
        // try_lock: the lock is held while the GIL is released, so blocking here could deadlock.
        let mut rng = self.rng.try_lock().map_err(|_| {
            pyo3::exceptions::PyRuntimeError::new_err(
                "policy: act() is running in another thread; give each thread its own Policy",
            )
        })?;
        let policy = &self.policy;
        let rng_ref: &mut rand_chacha::ChaCha8Rng = &mut rng;
        py.allow_threads(|| policy.act(&x, &mut hidden, mode, rng_ref, &mut out));
        let a = self.policy.action_len();
        Ok((
            out.actions.to_pyarray(py).reshape([n, a])?,
            out.values.to_pyarray(py),
            hidden.data.to_pyarray(py).reshape([n, hidden.width])?,
        ))
    }
}
