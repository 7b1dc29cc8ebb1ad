//! engram-agents: policies, training, checkpoints, recording and probes, and the `engram`
//! command-line program built on them.

pub mod io;
pub mod plan;
