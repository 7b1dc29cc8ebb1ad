//! Policy architecture settings.

use crate::nn::cells::CellKind;
use serde::{Deserialize, Serialize};

/// The policy family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// Memoryless MLP.
    Mlp,
    /// Vanilla (tanh) RNN.
    Rnn,
    /// GRU.
    Gru,
    /// LSTM.
    Lstm,
}

impl PolicyKind {
    /// The recurrent cell, if any.
    pub fn cell(self) -> Option<CellKind> {
        match self {
            PolicyKind::Mlp => None,
            PolicyKind::Rnn => Some(CellKind::Rnn),
            PolicyKind::Gru => Some(CellKind::Gru),
            PolicyKind::Lstm => Some(CellKind::Lstm),
        }
    }

    /// Parses `mlp|rnn|gru|lstm`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mlp" => Some(PolicyKind::Mlp),
            "rnn" => Some(PolicyKind::Rnn),
            "gru" => Some(PolicyKind::Gru),
            "lstm" => Some(PolicyKind::Lstm),
            _ => None,
        }
    }
}

/// Architecture of an actor-critic. Sizes are read at run time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Policy family. Default `mlp`.
    pub kind: PolicyKind,
    /// Widths of the tanh MLP layers (for a recurrent policy: after the recurrent layers).
    /// Default `[64, 64]`.
    pub hidden: Vec<usize>,
    /// Width of each recurrent layer. Default 64.
    pub rnn_hidden: usize,
    /// Number of recurrent layers, 1 or 2. Default 1.
    pub rnn_layers: usize,
    /// Actor and critic share one trunk (else each has its own, as SB3's default
    /// `enable_critic_lstm`). Default false.
    pub shared_trunk: bool,
    /// Initial log standard deviation of the Gaussian head. Default 0.
    pub log_std_init: f32,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            kind: PolicyKind::Mlp,
            hidden: vec![64, 64],
            rnn_hidden: 64,
            rnn_layers: 1,
            shared_trunk: false,
            log_std_init: 0.0,
        }
    }
}

impl PolicyConfig {
    /// Checks sizes; returns a message naming the field and value.
    pub fn validate(&self) -> Result<(), String> {
        if self.kind != PolicyKind::Mlp {
            if !(1..=2).contains(&self.rnn_layers) {
                return Err(format!("policy.rnn_layers = {} (must be 1 or 2)", self.rnn_layers));
            }
            if self.rnn_hidden == 0 {
                return Err("policy.rnn_hidden = 0 (must be >= 1)".into());
            }
        }
        if let Some(w) = self.hidden.iter().find(|&&w| w == 0) {
            return Err(format!("policy.hidden contains {w} (widths must be >= 1)"));
        }
        if !self.log_std_init.is_finite() {
            return Err(format!("policy.log_std_init = {} (must be finite)", self.log_std_init));
        }
        Ok(())
    }
}
