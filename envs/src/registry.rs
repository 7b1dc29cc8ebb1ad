//! The registry of versioned env ids: `make`, `make_with`, `list`.

use crate::error::{EnvError, EnvResult};
use crate::tasks;
use crate::wrappers::TimeLimit;

pub use crate::spec::{parse_config, BoxEnv, EnvSpec, MAX_EPISODE_STEPS_KEY};

/// Every registered env, in the order `engram envs` lists them.
pub fn specs() -> &'static [EnvSpec] {
    tasks::SPECS
}

/// The registered ids.
pub fn list() -> Vec<&'static str> {
    specs().iter().map(|s| s.id).collect()
}

/// The spec registered under `id`.
pub fn spec(id: &str) -> EnvResult<&'static EnvSpec> {
    specs()
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| EnvError::UnknownId { id: id.to_string(), known: list().join(", ") })
}

/// `gymnasium.make(id)`: the env with its default config and registered time limit.
pub fn make(id: &str) -> EnvResult<BoxEnv> {
    make_with(id, &serde_json::Value::Object(Default::default()))
}

/// `gymnasium.make(id, **config)`: `config` is a JSON object of the env's documented config
/// fields (unknown fields are refused) plus an optional `max_episode_steps`.
pub fn make_with(id: &str, config: &serde_json::Value) -> EnvResult<BoxEnv> {
    let spec = spec(id)?;
    let mut cfg = match config {
        serde_json::Value::Object(m) => m.clone(),
        serde_json::Value::Null => Default::default(),
        other => {
            return Err(EnvError::ConfigParse {
                env: id.into(),
                message: format!("expected a table/object, got {other}"),
            })
        }
    };
    let limit = match cfg.remove(MAX_EPISODE_STEPS_KEY) {
        None => spec.max_episode_steps,
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => Some(n as usize),
            _ => {
                return Err(EnvError::InvalidConfig {
                    env: id.into(),
                    field: MAX_EPISODE_STEPS_KEY.into(),
                    value: v.to_string(),
                    bound: "an integer >= 1".into(),
                })
            }
        },
    };
    let env = (spec.build)(&serde_json::Value::Object(cfg))?;
    Ok(match limit {
        Some(n) => Box::new(TimeLimit::new(env, n)),
        None => env,
    })
}

/// [`make_with`] from a TOML document (`[section]`-free: the env's fields at top level).
pub fn make_from_toml(id: &str, toml_text: &str) -> EnvResult<BoxEnv> {
    let value: toml::Value =
        toml::from_str(toml_text).map_err(|e| EnvError::ConfigParse { env: id.into(), message: e.to_string() })?;
    let json =
        serde_json::to_value(value).map_err(|e| EnvError::ConfigParse { env: id.into(), message: e.to_string() })?;
    make_with(id, &json)
}

/// [`make_with`] from a JSON document.
pub fn make_from_json(id: &str, json_text: &str) -> EnvResult<BoxEnv> {
    let value: serde_json::Value = serde_json::from_str(json_text)
        .map_err(|e| EnvError::ConfigParse { env: id.into(), message: e.to_string() })?;
    make_with(id, &value)
}

/// One registered env as `engram envs` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvRow {
    /// Versioned id.
    pub id: &'static str,
    /// Observation space.
    pub observation_space: String,
    /// Action space.
    pub action_space: String,
    /// Registered time limit.
    pub max_episode_steps: Option<usize>,
    /// One line on what it is.
    pub description: &'static str,
}

/// Every registered env with its default spaces (each is built once).
pub fn rows() -> EnvResult<Vec<EnvRow>> {
    specs()
        .iter()
        .map(|spec| {
            let env = make(spec.id)?;
            Ok(EnvRow {
                id: spec.id,
                observation_space: env.observation_space().to_string(),
                action_space: env.action_space().to_string(),
                max_episode_steps: spec.max_episode_steps,
                description: spec.description,
            })
        })
        .collect()
}

/// [`rows`] as an aligned text table.
pub fn table(rows: &[EnvRow]) -> String {
    let mut s = format!("{:<26} {:<22} {:<22} {:>6}  description\n", "id", "observation", "action", "limit");
    for r in rows {
        let limit = r.max_episode_steps.map_or("-".to_string(), |v| v.to_string());
        s.push_str(&format!(
            "{:<26} {:<22} {:<22} {:>6}  {}\n",
            r.id, r.observation_space, r.action_space, limit, r.description
        ));
    }
    s
}
