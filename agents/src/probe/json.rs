//! JSON for statistics that may be undefined: the probes use the workspace's one
//! implementation, [`engram_envs::serde_nan`] (non-finite ↔ `null`).
//!
//! Use with `#[serde(with = "crate::probe::json::f64_or_null")]` on an `f64` field and
//! `#[serde(with = "crate::probe::json::vec_f64_or_null")]` on a `Vec<f64>` field.

pub use engram_envs::serde_nan::{f64_or_null, vec_f64_or_null};
