//! engram-agents: policies, training, probes.

pub mod render;
