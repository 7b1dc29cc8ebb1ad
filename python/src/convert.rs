//! Conversions between engram values and Python objects, and engram errors as exceptions.

use engram_agents::AgentError;
use engram_envs::{EnvError, Info, Space};
use numpy::{PyArrayDescrMethods, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// An engram env error as the Python exception that fits it, with engram's message.
pub(crate) fn to_py_err(e: EnvError) -> PyErr {
    match e {
        EnvError::StepBeforeReset { .. } | EnvError::StepAfterDone { .. } => PyRuntimeError::new_err(e.to_string()),
        EnvError::ResourceLimit(_) => pyo3::exceptions::PyMemoryError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// An engram agents error as a Python exception.
pub(crate) fn agent_err(e: AgentError) -> PyErr {
    match e {
        AgentError::Env(e) => to_py_err(e),
        AgentError::Io { .. } => PyOSError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// A space as a plain dict the Python side turns into a `gymnasium.spaces` object.
pub(crate) fn space_to_py<'py>(py: Python<'py>, space: &Space) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match space {
        Space::Box { low, high, shape } => {
            d.set_item("type", "box")?;
            d.set_item("low", low.clone())?;
            d.set_item("high", high.clone())?;
            d.set_item("shape", shape.clone())?;
        }
        Space::Discrete { n } => {
            d.set_item("type", "discrete")?;
            d.set_item("n", *n)?;
        }
    }
    Ok(d)
}

/// An info as a dict of floats.
pub(crate) fn info_dict<'py>(py: Python<'py>, info: &Info) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in info.iter() {
        d.set_item(k, v)?;
    }
    Ok(d)
}

/// Reads one action for `space` from a Python object into `out` (`out.len() ==
/// space.flat_dim()`): a `Discrete` action is an integer (Python or NumPy, or a one-element
/// integer array); a `Box` action a float32/float64 array (or a sequence of floats) of the
/// space's shape. Wrong types raise `TypeError`, wrong shapes and non-finite values
/// `ValueError` (the env itself checks the range).
pub(crate) fn action_into(env: &str, space: &Space, action: &Bound<'_, PyAny>, out: &mut [f32]) -> PyResult<()> {
    match space {
        Space::Discrete { n } => {
            let value: i64 = if let Ok(v) = action.extract::<i64>() {
                v
            } else if let Ok(arr) = action.downcast::<PyUntypedArray>() {
                if arr.len() != 1 || !is_int(arr) {
                    return Err(PyValueError::new_err(format!(
                        "{env}: a Discrete({n}) action must be one integer, got an array of shape {:?} and dtype {}",
                        arr.shape(),
                        arr.dtype()
                    )));
                }
                action.call_method0("item")?.extract::<i64>()?
            } else {
                return Err(PyTypeError::new_err(format!(
                    "{env}: a Discrete({n}) action must be an integer, got {} ({})",
                    action.repr()?,
                    action.get_type().name()?
                )));
            };
            if value < 0 || value as u64 >= *n as u64 {
                return Err(PyValueError::new_err(format!(
                    "{env}: discrete action {value} is not an integer in [0, {n})"
                )));
            }
            out[0] = value as f32;
            Ok(())
        }
        Space::Box { shape, .. } => {
            let len = out.len();
            let bad_shape = |got: String| {
                PyValueError::new_err(format!(
                    "{env}: action has shape {got}, expected {shape:?} (action space {space})"
                ))
            };
            if let Ok(arr) = action.downcast::<PyUntypedArray>() {
                let ashape = arr.shape().to_vec();
                if arr.len() != len || !(ashape == *shape || ashape == [len]) {
                    return Err(bad_shape(format!("{ashape:?}")));
                }
                let flat = action.call_method1("reshape", (len,))?;
                if let Ok(a) = flat.extract::<PyReadonlyArray1<'_, f32>>() {
                    for (o, &v) in out.iter_mut().zip(a.as_array().iter()) {
                        *o = v;
                    }
                } else if let Ok(a) = flat.extract::<PyReadonlyArray1<'_, f64>>() {
                    for (o, &v) in out.iter_mut().zip(a.as_array().iter()) {
                        *o = v as f32;
                    }
                } else {
                    return Err(PyTypeError::new_err(format!(
                        "{env}: a Box action must be a float32 or float64 array, got dtype {}",
                        arr.dtype()
                    )));
                }
            } else if let Ok(v) = action.extract::<Vec<f64>>() {
                if v.len() != len {
                    return Err(bad_shape(format!("[{}]", v.len())));
                }
                for (o, x) in out.iter_mut().zip(v) {
                    *o = x as f32;
                }
            } else {
                return Err(PyTypeError::new_err(format!(
                    "{env}: a Box action must be a float array of shape {shape:?}, got {}",
                    action.get_type().name()?
                )));
            }
            check_finite(env, out)
        }
    }
}

fn is_int(arr: &Bound<'_, PyUntypedArray>) -> bool {
    arr.dtype().kind() == b'i' || arr.dtype().kind() == b'u'
}

/// `ValueError` naming the first non-finite component.
pub(crate) fn check_finite(env: &str, x: &[f32]) -> PyResult<()> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(PyValueError::new_err(format!("{env}: action[{i}] = {} is not finite", x[i]))),
        None => Ok(()),
    }
}
