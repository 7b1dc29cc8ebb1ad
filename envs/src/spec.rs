//! What a task registers: [`EnvSpec`], the boxed env type and config parsing. Below both
//! the registry and the tasks, so data flows one way: `spec` ← `tasks` ← `registry`.

use crate::env::Env;
use crate::error::{EnvError, EnvResult};
use serde::de::DeserializeOwned;

/// A boxed env as the registry hands it out.
pub type BoxEnv = Box<dyn Env>;

/// Key of a config that overrides the registered time limit (as `gymnasium.make`'s
/// `max_episode_steps`); every env accepts it.
pub const MAX_EPISODE_STEPS_KEY: &str = "max_episode_steps";

/// One registered env.
#[derive(Clone, Copy)]
pub struct EnvSpec {
    /// Versioned id, for example `CartPole-v1`.
    pub id: &'static str,
    /// One line on what it is.
    pub description: &'static str,
    /// Registered time limit (`None`: the env ends its own episodes).
    pub max_episode_steps: Option<usize>,
    /// Builds the bare env (no time limit) from its config (a JSON object, possibly empty).
    pub build: fn(&serde_json::Value) -> EnvResult<BoxEnv>,
}

impl std::fmt::Debug for EnvSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvSpec").field("id", &self.id).field("max_episode_steps", &self.max_episode_steps).finish()
    }
}

/// Parses an env's config struct from a JSON object, naming the env in the error.
pub fn parse_config<C: DeserializeOwned>(env: &str, config: &serde_json::Value) -> EnvResult<C> {
    serde_json::from_value(config.clone())
        .map_err(|e| EnvError::ConfigParse { env: env.into(), message: e.to_string() })
}
