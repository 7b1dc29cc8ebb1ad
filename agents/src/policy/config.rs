//! Policy architecture settings.

use crate::error::AgentError;
use crate::nn::cells::CellKind;
use serde::{Deserialize, Serialize};

/// The policy family. Serialized, parsed on the command line and printed as `mlp`, `rnn`,
/// `gru`, `lstm` ([`PolicyKind::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
#[value(rename_all = "lowercase")]
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

    /// Every family, in the order `mlp`, `rnn`, `gru`, `lstm`.
    pub const ALL: [PolicyKind; 4] = [PolicyKind::Mlp, PolicyKind::Rnn, PolicyKind::Gru, PolicyKind::Lstm];

    /// The lowercase name used in configs, flags and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Mlp => "mlp",
            PolicyKind::Rnn => "rnn",
            PolicyKind::Gru => "gru",
            PolicyKind::Lstm => "lstm",
        }
    }

    /// Parses `mlp|rnn|gru|lstm`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The engine that trains an MLP policy (recurrent policies always use the hand BPTT plus
/// dfdx heads).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
#[value(rename_all = "lowercase")]
pub enum Engine {
    /// dfdx's autodiff graph (the reference; existing configs train bit-identically).
    #[default]
    Dfdx,
    /// Hand-written forward and backward on plain buffers with faer GEMMs
    /// ([`crate::policy::fused`]): same gradients up to rounding, several times faster.
    Fused,
}

impl Engine {
    fn is_dfdx(&self) -> bool {
        *self == Engine::Dfdx
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
    /// Training engine of an MLP policy, `dfdx` or `fused`. Default `dfdx` (omitted from
    /// written configs when default, so existing configs and run directories are unchanged).
    #[serde(skip_serializing_if = "Engine::is_dfdx")]
    pub engine: Engine,
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
            engine: Engine::Dfdx,
        }
    }
}

impl PolicyConfig {
    /// Checks sizes; the error names the field, its value and the bound.
    pub fn validate(&self) -> Result<(), AgentError> {
        let bad = |msg: String| Err(AgentError::Config(msg));
        if self.kind != PolicyKind::Mlp {
            if !(1..=2).contains(&self.rnn_layers) {
                return bad(format!("policy.rnn_layers = {} (must be 1 or 2)", self.rnn_layers));
            }
            if self.rnn_hidden == 0 {
                return bad("policy.rnn_hidden = 0 (must be >= 1)".into());
            }
        }
        if let Some(w) = self.hidden.iter().find(|&&w| w == 0) {
            return bad(format!("policy.hidden contains {w} (widths must be >= 1)"));
        }
        if !self.log_std_init.is_finite() {
            return bad(format!("policy.log_std_init = {} (must be finite)", self.log_std_init));
        }
        Ok(())
    }
}
