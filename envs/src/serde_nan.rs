//! JSON for values that may be undefined: non-finite `f64` values (NaN, ±inf) are written as
//! `null` (JSON has no NaN) and `null` is read back as NaN, so records and reports with
//! undefined values (the angle of a reach that never moved, a statistic of too few points)
//! round-trip.
//!
//! Use with `#[serde(with = "engram_envs::serde_nan::f64_or_null")]` on an `f64` field and
//! `#[serde(with = "engram_envs::serde_nan::vec_f64_or_null")]` on a `Vec<f64>` field.

/// One `f64`: non-finite ↔ `null`.
pub mod f64_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes a finite value as a number, anything else as `null`.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    /// Reads a number, or `null` as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// A `Vec<f64>`: non-finite elements ↔ `null`.
pub mod vec_f64_or_null {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes finite elements as numbers, the others as `null`.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            seq.serialize_element(&x.is_finite().then_some(*x))?;
        }
        seq.end()
    }

    /// Reads numbers, `null` elements as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<Option<f64>>::deserialize(d)?.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    struct T {
        #[serde(with = "super::f64_or_null")]
        a: f64,
        #[serde(with = "super::vec_f64_or_null")]
        b: Vec<f64>,
    }

    #[test]
    fn non_finite_round_trips_as_null() {
        let t = T { a: f64::NAN, b: vec![1.0, f64::INFINITY] };
        let j = serde_json::to_string(&t).unwrap();
        assert_eq!(j, r#"{"a":null,"b":[1.0,null]}"#);
        let back: T = serde_json::from_str(&j).unwrap();
        assert!(back.a.is_nan() && back.b[0] == 1.0 && back.b[1].is_nan());
    }
}
