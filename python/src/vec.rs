//! `engram._engram.VecEnv`: a [`VectorEnv`] whose buffers NumPy reads in place.
//!
//! Every array the Python side returns from `reset` and `step` (observations, final
//! observations, rewards, terminated, truncated, info values and masks) is a NumPy view,
//! created once, on a Rust buffer allocated once: a step writes into them and allocates
//! nothing. Stepping runs on engram's rayon pool with the GIL released.

use crate::convert::{space_to_py, to_py_err};
use crate::{parse_json, reset_options};
use engram_envs::{Autoreset, BoxEnv, Env, EnvError, Execution, VectorEnv};
use numpy::ndarray::{ArrayView1, ArrayView2};
use numpy::{PyArray, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use rand::SeedableRng;
use std::sync::Mutex;

/// The Rust side of a vector env: the engram vector env and the buffers NumPy views.
struct VecCore {
    venv: VectorEnv<BoxEnv>,
    actions: Vec<f32>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    /// Info values `[n_envs, n_keys]` and whether each env set each key.
    infos: Vec<f64>,
    info_mask: Vec<bool>,
    /// Infos of the final step of envs that just ended (SameStep), and their mask.
    final_infos: Vec<f64>,
    final_mask: Vec<bool>,
    /// Which envs ended an episode at the last step (SameStep: whose final row is fresh).
    ended: Vec<bool>,
    keys: Vec<&'static str>,
}

impl VecCore {
    /// Copies the per-env results of the last reset or step into the viewed buffers.
    fn publish(&mut self) {
        let k = self.keys.len();
        let same = self.venv.autoreset() == Autoreset::SameStep;
        for i in 0..self.venv.num_envs() {
            let o = self.venv.outcome(i);
            self.rewards[i] = o.reward;
            self.terminated[i] = o.terminated;
            self.truncated[i] = o.truncated;
            let ended = o.terminated || o.truncated;
            self.ended[i] = ended;
            let info = self.venv.info(i);
            for (j, key) in self.keys.iter().enumerate() {
                let v = info.get(key);
                self.infos[i * k + j] = v.unwrap_or(0.0);
                self.info_mask[i * k + j] = v.is_some();
            }
            if same && ended {
                let fin = self.venv.final_info(i);
                for (j, key) in self.keys.iter().enumerate() {
                    let v = fin.get(key);
                    self.final_infos[i * k + j] = v.unwrap_or(0.0);
                    self.final_mask[i * k + j] = v.is_some();
                }
            }
        }
    }
}

/// `n` engram envs stepped together; see the module docs.
#[pyclass(name = "VecEnv", module = "engram._engram")]
pub struct PyVecEnv {
    core: Mutex<VecCore>,
    id: String,
    n: usize,
    obs_dim: usize,
    act_dim: usize,
    discrete: bool,
}

fn bad(msg: String) -> PyErr {
    PyValueError::new_err(msg)
}

#[pymethods]
impl PyVecEnv {
    /// `num_envs` copies of `id` with one JSON config; `autoreset` is `"next_step"`
    /// (Gymnasium's default) or `"same_step"`; `threads` sizes a private rayon pool (`None`:
    /// the global pool; `1`: step on the calling thread).
    #[new]
    #[pyo3(signature = (id, num_envs, config_json=None, autoreset="next_step", threads=None))]
    fn new(
        id: &str,
        num_envs: usize,
        config_json: Option<&str>,
        autoreset: &str,
        threads: Option<usize>,
    ) -> PyResult<Self> {
        let cfg = parse_json(id, config_json)?;
        let mode = match autoreset {
            "next_step" | "NextStep" => Autoreset::NextStep,
            "same_step" | "SameStep" => Autoreset::SameStep,
            other => return Err(bad(format!("{id}: autoreset = {other:?}, must be \"next_step\" or \"same_step\""))),
        };
        if num_envs == 0 {
            return Err(bad(format!("{id}: num_envs = 0, must be >= 1")));
        }
        let exec = match threads {
            Some(0) => return Err(bad(format!("{id}: threads = 0, must be >= 1"))),
            Some(1) => Execution::Sequential,
            _ => Execution::Parallel { min_chunk: 0 },
        };
        let mut venv =
            VectorEnv::from_fn(num_envs, mode, exec, |_| engram_envs::make_with(id, &cfg)).map_err(to_py_err)?;
        if let Some(t) = threads.filter(|&t| t > 1) {
            venv = venv.with_threads(t).map_err(to_py_err)?;
        }
        let keys = info_schema(id, &cfg).map_err(to_py_err)?;
        let (n, d, a, k) = (num_envs, venv.obs_dim(), venv.act_dim(), keys.len());
        let discrete = matches!(venv.single_action_space(), engram_envs::Space::Discrete { .. });
        let id = venv.envs()[0].id().to_string();
        let core = VecCore {
            venv,
            actions: vec![0.0; n * a],
            rewards: vec![0.0; n],
            terminated: vec![false; n],
            truncated: vec![false; n],
            infos: vec![0.0; n * k],
            info_mask: vec![false; n * k],
            final_infos: vec![0.0; n * k],
            final_mask: vec![false; n * k],
            ended: vec![false; n],
            keys,
        };
        Ok(Self { core: Mutex::new(core), id, n, obs_dim: d, act_dim: a, discrete })
    }

    /// The env id.
    #[getter]
    fn id(&self) -> &str {
        &self.id
    }

    /// Number of envs.
    #[getter]
    fn num_envs(&self) -> usize {
        self.n
    }

    /// The info keys, in the column order of the info buffers.
    fn info_keys(&self) -> PyResult<Vec<&'static str>> {
        Ok(self.lock()?.keys.clone())
    }

    /// One env's observation space as a dict.
    fn single_observation_space<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        space_to_py(py, self.lock()?.venv.single_observation_space())
    }

    /// One env's action space as a dict.
    fn single_action_space<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        space_to_py(py, self.lock()?.venv.single_action_space())
    }

    /// NumPy views on the buffers, in this order: obs `[n, obs_dim]` f32, final_obs
    /// `[n, obs_dim]` f32, rewards `[n]` f64, terminated `[n]` bool, truncated `[n]` bool,
    /// infos `[n, n_keys]` f64, info_mask `[n, n_keys]` bool, final_infos, final_mask,
    /// ended `[n]` bool. The views stay valid as long as this object lives (they keep it
    /// alive) and are overwritten by every reset and step.
    fn views<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let this = slf.borrow();
        let core = this.lock()?;
        let (n, d, k) = (this.n, this.obs_dim, core.keys.len());
        let owner = slf.clone().into_any();
        // SAFETY: every buffer below is allocated once in `new` (or by `VectorEnv::new`) and
        // never resized, so its pointer is stable; the NumPy array keeps `owner` (this
        // object, which owns the buffers) alive for as long as the view exists.
        let items: Vec<PyObject> = unsafe {
            vec![
                PyArray::borrow_from_array(&view2(core.venv.obs(), n, d)?, owner.clone()).into_any().unbind(),
                PyArray::borrow_from_array(&view2(core.venv.final_obs(), n, d)?, owner.clone()).into_any().unbind(),
                PyArray::borrow_from_array(&ArrayView1::from(&core.rewards[..]), owner.clone()).into_any().unbind(),
                PyArray::borrow_from_array(&ArrayView1::from(&core.terminated[..]), owner.clone()).into_any().unbind(),
                PyArray::borrow_from_array(&ArrayView1::from(&core.truncated[..]), owner.clone()).into_any().unbind(),
                PyArray::borrow_from_array(&view2(&core.infos, n, k)?, owner.clone()).into_any().unbind(),
                PyArray::borrow_from_array(&view2(&core.info_mask, n, k)?, owner.clone()).into_any().unbind(),
                PyArray::borrow_from_array(&view2(&core.final_infos, n, k)?, owner.clone()).into_any().unbind(),
                PyArray::borrow_from_array(&view2(&core.final_mask, n, k)?, owner.clone()).into_any().unbind(),
                PyArray::borrow_from_array(&ArrayView1::from(&core.ended[..]), owner.clone()).into_any().unbind(),
            ]
        };
        for item in &items {
            // The views are for reading: writing into them would corrupt the envs' state.
            item.bind(py).getattr("flags")?.setattr("writeable", false)?;
        }
        PyTuple::new(py, items)
    }

    /// Resets every env (env `i` with `seed + i`, Gymnasium's rule; `None` continues each
    /// env's stream) with the same options for all.
    #[pyo3(signature = (seed=None, options=None))]
    fn reset(&self, py: Python<'_>, seed: Option<u64>, options: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let options = reset_options(options)?;
        let mut guard = self.lock()?;
        let core = &mut *guard;
        py.allow_threads(|| -> Result<(), EnvError> {
            core.venv.reset_with(seed, &options)?;
            core.publish();
            Ok(())
        })
        .map_err(to_py_err)
    }

    /// Steps every env with `actions` (`[n, act_dim]` float array for a Box action space,
    /// `[n]` integer array for Discrete), with the GIL released.
    fn step(&self, py: Python<'_>, actions: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut guard = self.lock()?;
        let core = &mut *guard;
        self.read_actions(actions, &mut core.actions)?;
        py.allow_threads(|| -> Result<(), EnvError> {
            core.venv.step_in_place(&core.actions)?;
            core.publish();
            Ok(())
        })
        .map_err(to_py_err)
    }
}

/// A 2-D view of a flat row-major buffer.
fn view2<T>(data: &[T], rows: usize, cols: usize) -> PyResult<ArrayView2<'_, T>> {
    ArrayView2::from_shape((rows, cols), data)
        .map_err(|e| bad(format!("buffer of {} for [{rows}, {cols}]: {e}", data.len())))
}

/// The info keys of `id`: those set at reset and those set by a step, in that order.
fn info_schema(id: &str, cfg: &serde_json::Value) -> Result<Vec<&'static str>, EnvError> {
    let mut env = engram_envs::make_with(id, cfg)?;
    let (_, info) = env.reset(Some(0), &Default::default())?;
    let mut keys: Vec<&'static str> = info.keys().to_vec();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let action = env.action_space().sample(&mut rng);
    let step = env.step(&action)?;
    for k in step.info.keys() {
        if !keys.contains(k) {
            keys.push(k);
        }
    }
    Ok(keys)
}

impl PyVecEnv {
    /// The core, or an error when another thread is using it: `step` releases the GIL while
    /// it holds the lock, so blocking here (with the GIL) could deadlock.
    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, VecCore>> {
        self.core.try_lock().map_err(|e| {
            pyo3::exceptions::PyRuntimeError::new_err(match e {
                std::sync::TryLockError::WouldBlock => format!(
                    "VectorEnv<{}> is being stepped by another thread; give each thread its own vector env",
                    self.id
                ),
                std::sync::TryLockError::Poisoned(_) => format!("VectorEnv<{}>: lock poisoned", self.id),
            })
        })
    }

    /// Copies a batch of actions into `out` (`[n, act_dim]`), checking shape and dtype.
    fn read_actions(&self, actions: &Bound<'_, PyAny>, out: &mut [f32]) -> PyResult<()> {
        let (id, n, a) = (&self.id, self.n, self.act_dim);
        let arr = actions.downcast::<PyUntypedArray>().map_err(|_| {
            PyTypeError::new_err(format!(
                "VectorEnv<{id}>: actions must be a NumPy array of shape [{n}{}], got {}",
                if self.discrete { String::new() } else { format!(", {a}") },
                actions.get_type().name().map(|s| s.to_string()).unwrap_or_default()
            ))
        })?;
        let shape = arr.shape().to_vec();
        let ok_shape =
            if self.discrete { shape == [n] || shape == [n, 1] } else { shape == [n, a] || (a == 1 && shape == [n]) };
        if !ok_shape {
            return Err(bad(format!(
                "VectorEnv<{id}>: actions have shape {shape:?}, expected [{n}{}]",
                if self.discrete { String::new() } else { format!(", {a}") }
            )));
        }
        let flat = actions.call_method1("reshape", (n * a,))?;
        if let Ok(x) = flat.extract::<PyReadonlyArray1<'_, f32>>() {
            copy_into(x.as_array().iter().copied(), out);
        } else if let Ok(x) = flat.extract::<PyReadonlyArray1<'_, f64>>() {
            copy_into(x.as_array().iter().map(|&v| v as f32), out);
        } else if let (true, Ok(x)) = (self.discrete, flat.extract::<PyReadonlyArray1<'_, i64>>()) {
            copy_into(x.as_array().iter().map(|&v| v as f32), out);
        } else if let (true, Ok(x)) = (self.discrete, flat.extract::<PyReadonlyArray1<'_, i32>>()) {
            copy_into(x.as_array().iter().map(|&v| v as f32), out);
        } else {
            return Err(PyTypeError::new_err(format!(
                "VectorEnv<{id}>: actions have dtype {}, expected float32/float64{}",
                arr.dtype(),
                if self.discrete { " or int32/int64" } else { "" }
            )));
        }
        Ok(())
    }
}

fn copy_into(src: impl Iterator<Item = f32>, out: &mut [f32]) {
    for (o, v) in out.iter_mut().zip(src) {
        *o = v;
    }
}
