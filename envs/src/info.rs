//! `Info`: the typed, allocation-free side channel of `reset` and `step`.

use std::fmt;

/// Maximum number of named scalars an [`Info`] holds.
pub const INFO_CAPACITY: usize = 64;

/// Named scalar diagnostics returned beside each observation (Gymnasium's `info` dict,
/// restricted to `f64` values with `'static` names).
///
/// An `Info` is a fixed-size value: setting keys never allocates, and a vector env can copy
/// `values()` into a contiguous `[n_envs, n_keys]` buffer. An env sets the same keys in the
/// same order on every step (the env checker verifies this), so the key list is a schema.
/// Flags are stored as `0.0`/`1.0`, indices as integral floats.
#[derive(Clone, Copy)]
pub struct Info {
    len: usize,
    keys: [&'static str; INFO_CAPACITY],
    values: [f64; INFO_CAPACITY],
}

impl Default for Info {
    fn default() -> Self {
        Self::new()
    }
}

impl Info {
    /// An empty info.
    pub const fn new() -> Self {
        Self { len: 0, keys: [""; INFO_CAPACITY], values: [0.0; INFO_CAPACITY] }
    }

    /// Removes every entry (no deallocation: there is nothing to free).
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Sets `key` to `value`, replacing an existing entry or appending a new one.
    ///
    /// # Panics
    /// If more than [`INFO_CAPACITY`] distinct keys are set: that is a bug in an env, not a
    /// user error.
    #[inline]
    pub fn set(&mut self, key: &'static str, value: f64) {
        if let Some(i) = self.position(key) {
            self.values[i] = value;
            return;
        }
        assert!(self.len < INFO_CAPACITY, "Info: more than {INFO_CAPACITY} keys (setting `{key}`)");
        self.keys[self.len] = key;
        self.values[self.len] = value;
        self.len += 1;
    }

    /// Sets a boolean flag as `0.0`/`1.0`.
    #[inline]
    pub fn set_flag(&mut self, key: &'static str, flag: bool) {
        self.set(key, if flag { 1.0 } else { 0.0 });
    }

    #[inline]
    fn position(&self, key: &str) -> Option<usize> {
        // Keys are almost always the same `'static` literal: compare pointers first.
        let keys = &self.keys[..self.len];
        keys.iter()
            .position(|k| std::ptr::eq(k.as_ptr(), key.as_ptr()) && k.len() == key.len())
            .or_else(|| keys.iter().position(|k| *k == key))
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.position(key).map(|i| self.values[i])
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The keys, in insertion order.
    pub fn keys(&self) -> &[&'static str] {
        &self.keys[..self.len]
    }

    /// The values, in the order of [`Info::keys`].
    pub fn values(&self) -> &[f64] {
        &self.values[..self.len]
    }

    /// The values, mutable, in the order of [`Info::keys`]: an env that writes the same schema
    /// every step overwrites them in place instead of looking each key up.
    #[inline]
    pub fn values_mut(&mut self) -> &mut [f64] {
        &mut self.values[..self.len]
    }

    /// `(key, value)` pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.keys().iter().copied().zip(self.values().iter().copied())
    }

    /// Copies every entry of `other` into `self` (setting or appending each key).
    pub fn extend_from(&mut self, other: &Info) {
        for (k, v) in other.iter() {
            self.set(k, v);
        }
    }
}

impl fmt::Debug for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for Info {
    fn eq(&self, other: &Self) -> bool {
        self.keys() == other.keys() && self.values().iter().zip(other.values()).all(|(a, b)| a.to_bits() == b.to_bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_and_appends_in_order() {
        let mut info = Info::new();
        info.set("a", 1.0);
        info.set("b", 2.0);
        info.set("a", 3.0);
        assert_eq!(info.keys(), &["a", "b"]);
        assert_eq!(info.values(), &[3.0, 2.0]);
        let owned = String::from("b");
        assert_eq!(info.get(&owned), Some(2.0));
        assert_eq!(info.get("c"), None);
        info.clear();
        assert!(info.is_empty());
    }
}
