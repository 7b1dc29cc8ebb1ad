//! Resource limits: refusing sizes whose buffers cannot fit in memory, with an error that
//! names the value, the bytes it would need and the bound, instead of an allocation abort.

/// The bound used when `/proc/meminfo` is unavailable (not Linux, or unreadable): 16 GiB.
pub const FALLBACK_MEMORY_BOUND_BYTES: u64 = 16 << 30;

/// Where a memory bound came from.
pub const SOURCE_MEMINFO: &str = "MemAvailable in /proc/meminfo";
/// Where the fallback bound came from.
pub const SOURCE_FALLBACK: &str = "fixed ceiling, /proc/meminfo unavailable";

/// The memory a new allocation may use, in bytes, and where that bound came from:
/// `MemAvailable` of `/proc/meminfo`, else [`FALLBACK_MEMORY_BOUND_BYTES`].
pub fn memory_bound() -> (u64, &'static str) {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| parse_mem_available(&text))
        .map_or((FALLBACK_MEMORY_BOUND_BYTES, SOURCE_FALLBACK), |b| (b, SOURCE_MEMINFO))
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
fn parse_mem_available(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut words = line.split_whitespace().skip(1);
    let kib: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => kib.checked_mul(1024),
        Some(_) => None,
    }
}

/// A size refused because its buffers would not fit in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryLimit {
    /// What would hold the buffers (an env id, `VectorEnv<…>`, "rollout buffers").
    pub what: String,
    /// The size field, for example `n_envs`.
    pub field: String,
    /// Its value.
    pub value: String,
    /// Bytes it would need.
    pub bytes: u128,
    /// The bound.
    pub bound: u64,
    /// Where the bound comes from ([`SOURCE_MEMINFO`] or [`SOURCE_FALLBACK`]).
    pub bound_source: &'static str,
}

impl std::fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: `{}` = {} would need {} bytes, more than the bound of {} bytes ({})",
            self.what, self.field, self.value, self.bytes, self.bound, self.bound_source
        )
    }
}

/// Refuses `bytes` above [`memory_bound`], naming `what`, `field` and `value` in the error.
pub fn require_memory(what: &str, field: &str, value: &str, bytes: u128) -> Result<(), Box<MemoryLimit>> {
    check_memory(bytes).map_err(|(bound, bound_source)| {
        Box::new(MemoryLimit {
            what: what.into(),
            field: field.into(),
            value: value.into(),
            bytes,
            bound,
            bound_source,
        })
    })
}

/// `Ok(())` when `bytes` fit under [`memory_bound`], else the bound and its source.
pub fn check_memory(bytes: u128) -> Result<(), (u64, &'static str)> {
    let (bound, source) = memory_bound();
    if bytes > bound as u128 {
        Err((bound, source))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_available_is_parsed_in_bytes() {
        let text = "MemTotal:       16318412 kB\nMemFree:  1 kB\nMemAvailable:   12000000 kB\n";
        assert_eq!(parse_mem_available(text), Some(12_000_000 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 5 kB\n"), None);
    }

    #[test]
    fn absurd_sizes_are_refused() {
        assert!(check_memory(u128::from(u64::MAX) * 2).is_err());
        assert!(check_memory(1024).is_ok());
    }
}
