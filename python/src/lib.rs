//! `engram._engram`: the compiled core of the `engram` Python package.
//!
//! Three classes cross the boundary: [`PyEnv`] (one env, stepped from Python), [`PyVecEnv`]
//! (a [`VectorEnv`] whose buffers NumPy views directly, stepped with the GIL released) and
//! [`PyPolicy`] (a trained checkpoint acting through engram's own forward pass). The
//! Gymnasium classes are thin Python wrappers around these (`python/engram/`). Every engram
//! error arrives as a Python exception: `ValueError` for bad values (actions, configs, ids,
//! options), `RuntimeError` for calls out of order (step before reset or after the end),
//! `OSError` for files; nothing panics across the boundary.

// The NumPy views over engram's buffers (`PyVecEnv`) need `unsafe`: NumPy holds a raw
// pointer into a Rust-owned buffer that never reallocates and outlives the view.
#![allow(unsafe_code)]

mod convert;
mod policy;
mod vec;

use convert::{action_into, info_dict, space_to_py, to_py_err};
use engram_envs::{BoxEnv, Env, EpisodeStatus, Info, ResetOptions};
use numpy::{PyArray1, ToPyArray};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Mutex;

/// The Rust side of one env.
struct EnvCore {
    env: BoxEnv,
    obs: Vec<f32>,
    action: Vec<f32>,
    info: Info,
    status: EpisodeStatus,
}

/// One engram env: `reset(seed, options) -> (obs, info)` and
/// `step(action) -> (obs, reward, terminated, truncated, info)`.
#[pyclass(name = "Env", module = "engram._engram")]
pub struct PyEnv {
    core: Mutex<EnvCore>,
    id: String,
}

/// Parses a JSON config given from Python (`None` or an object).
pub(crate) fn parse_json(id: &str, config_json: Option<&str>) -> PyResult<serde_json::Value> {
    match config_json {
        None => Ok(serde_json::Value::Object(Default::default())),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("{id}: cannot parse config: {e}"))),
    }
}

/// Reset options from a Python mapping of names to numbers.
pub(crate) fn reset_options(options: Option<&Bound<'_, PyDict>>) -> PyResult<ResetOptions> {
    let mut out = ResetOptions::new();
    if let Some(d) = options {
        for (k, v) in d.iter() {
            let key: String = k.extract().map_err(|_| {
                pyo3::exceptions::PyValueError::new_err(format!("reset option key {k} is not a string"))
            })?;
            let value: f64 = v.extract().map_err(|_| {
                pyo3::exceptions::PyValueError::new_err(format!("reset option `{key}` = {v} is not a number"))
            })?;
            out.values.insert(key, value);
        }
    }
    Ok(out)
}

#[pymethods]
impl PyEnv {
    /// Makes the env registered as `id` with a JSON config (engram's `make_with`).
    #[new]
    #[pyo3(signature = (id, config_json=None))]
    fn new(id: &str, config_json: Option<&str>) -> PyResult<Self> {
        let cfg = parse_json(id, config_json)?;
        let env = engram_envs::make_with(id, &cfg).map_err(to_py_err)?;
        let obs = vec![0.0; env.observation_space().flat_dim()];
        let action = vec![0.0; env.action_space().flat_dim()];
        let id = env.id().to_string();
        Ok(Self {
            core: Mutex::new(EnvCore { env, obs, action, info: Info::new(), status: EpisodeStatus::default() }),
            id,
        })
    }

    /// The env's id.
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// The observation space as a dict (`type`, `low`, `high`, `shape` or `n`).
    fn observation_space<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let core = self.lock()?;
        space_to_py(py, core.env.observation_space())
    }

    /// The action space as a dict.
    fn action_space<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let core = self.lock()?;
        space_to_py(py, core.env.action_space())
    }

    /// The time limit, if any.
    fn max_episode_steps(&self) -> PyResult<Option<usize>> {
        Ok(self.lock()?.env.max_episode_steps())
    }

    /// Starts an episode.
    #[pyo3(signature = (seed=None, options=None))]
    fn reset<'py>(
        &self,
        py: Python<'py>,
        seed: Option<u64>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(Bound<'py, PyArray1<f32>>, Bound<'py, PyDict>)> {
        let options = reset_options(options)?;
        let mut guard = self.lock()?;
        let core = &mut *guard;
        core.env.reset_into(seed, &options, &mut core.obs, &mut core.info).map_err(to_py_err)?;
        core.status = EpisodeStatus::Running;
        Ok((core.obs.to_pyarray(py), info_dict(py, &core.info)?))
    }

    /// Advances one step.
    #[allow(clippy::type_complexity)]
    fn step<'py>(
        &self,
        py: Python<'py>,
        action: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyArray1<f32>>, f64, bool, bool, Bound<'py, PyDict>)> {
        let mut guard = self.lock()?;
        let core = &mut *guard;
        core.status.check_step(&self.id).map_err(to_py_err)?;
        action_into(&self.id, core.env.action_space(), action, &mut core.action)?;
        let o = core.env.step_into(&core.action, &mut core.obs, &mut core.info).map_err(to_py_err)?;
        core.status.record(&o);
        Ok((core.obs.to_pyarray(py), o.reward, o.terminated, o.truncated, info_dict(py, &core.info)?))
    }

    /// The physical state, if the env exposes one.
    fn state(&self) -> PyResult<Option<Vec<f64>>> {
        Ok(self.lock()?.env.state())
    }
}

impl PyEnv {
    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, EnvCore>> {
        self.core
            .lock()
            .map_err(|_| pyo3::exceptions::PyRuntimeError::new_err(format!("{}: env lock poisoned", self.id)))
    }
}

/// The registered ids with their time limits and descriptions.
#[pyfunction]
fn registry() -> Vec<(&'static str, Option<usize>, &'static str)> {
    engram_envs::registry::specs().iter().map(|s| (s.id, s.max_episode_steps, s.description)).collect()
}

/// The compiled module.
#[pymodule]
fn _engram(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEnv>()?;
    m.add_class::<vec::PyVecEnv>()?;
    m.add_class::<policy::PyPolicy>()?;
    m.add_function(wrap_pyfunction!(registry, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
