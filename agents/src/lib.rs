//! engram-agents: policies, training, probes.
