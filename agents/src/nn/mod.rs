//! Building blocks on dfdx 0.13 with runtime shapes: parameters, dense layers and the
//! recurrent cells.
//!
//! Nothing outside [`crate::nn`], [`crate::policy::actor_critic`] and the PPO loss
//! ([`crate::ppo::loss`]) names a dfdx type;
//! everything else works on `f32` slices through the [`crate::policy::Policy`] trait.

pub mod act;
pub mod bptt;
pub mod cells;
pub mod gemm;
pub mod linear;
pub mod params;

use dfdx::prelude::*;

/// The dfdx device (CPU).
pub type Dev = Cpu;
/// A `[rows, cols]` tensor without a tape.
pub type T2 = Tensor<(usize, usize), f32, Dev>;
/// A `[rows, cols]` tensor with tape `T`.
pub type T2T<T> = Tensor<(usize, usize), f32, Dev, T>;
/// The recording tape.
pub type Tp = OwnedTape<f32, Dev>;
/// A scalar on the recording tape (a loss).
pub type Scalar = Tensor<(), f32, Dev, Tp>;

pub use linear::Linear;
pub use params::{Param, ParamId, Params};
