//! JSON has no NaN: `serde_json` writes a non-finite float as `null`. These deserializers
//! read `null` back as NaN, so records with undefined values (an angle of a reach that never
//! moved, say) round-trip. Use with `#[serde(deserialize_with = "...")]`.

use serde::{Deserialize, Deserializer};

/// An `f64` that may be `null` (read as NaN).
pub fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A `Vec<f64>` whose elements may be `null` (read as NaN).
pub fn vec_f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(Vec::<Option<f64>>::deserialize(d)?.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct S {
        #[serde(deserialize_with = "super::f64_or_nan")]
        a: f64,
        #[serde(deserialize_with = "super::vec_f64_or_nan")]
        v: Vec<f64>,
    }

    #[test]
    fn nan_round_trips_through_json() {
        let text = serde_json::to_string(&S { a: f64::NAN, v: vec![1.0, f64::NAN] }).unwrap();
        assert_eq!(text, r#"{"a":null,"v":[1.0,null]}"#);
        let s: S = serde_json::from_str(&text).unwrap();
        assert!(s.a.is_nan() && s.v[0] == 1.0 && s.v[1].is_nan());
    }
}
