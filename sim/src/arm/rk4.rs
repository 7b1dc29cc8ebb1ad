//! Classic RK4 for the 2-D second-order systems of the reaching plants (arm joints, point
//! mass): `q̈ = accel(q, q̇, u)` with the input given at the start, middle and end of the step.

/// `x + a·y` for 2-vectors.
#[inline]
pub fn axpy(x: [f64; 2], a: f64, y: [f64; 2]) -> [f64; 2] {
    [x[0] + a * y[0], x[1] + a * y[1]]
}

/// One RK4 step of length `h` from `(q, qd)`; `inputs` = the input at `t`, `t + h/2`,
/// `t + h`. Returns the new `(q, qd)`.
#[inline]
pub fn rk4_step(
    q: [f64; 2],
    qd: [f64; 2],
    h: f64,
    inputs: [[f64; 2]; 3],
    mut accel: impl FnMut([f64; 2], [f64; 2], [f64; 2]) -> [f64; 2],
) -> ([f64; 2], [f64; 2]) {
    let [u0, uh, u1] = inputs;
    let k1v = qd;
    let k1a = accel(q, qd, u0);
    let k2v = axpy(qd, 0.5 * h, k1a);
    let k2a = accel(axpy(q, 0.5 * h, k1v), k2v, uh);
    let k3v = axpy(qd, 0.5 * h, k2a);
    let k3a = accel(axpy(q, 0.5 * h, k2v), k3v, uh);
    let k4v = axpy(qd, h, k3a);
    let k4a = accel(axpy(q, h, k3v), k4v, u1);
    let w = h / 6.0;
    let (mut q1, mut qd1) = ([0.0; 2], [0.0; 2]);
    for i in 0..2 {
        q1[i] = q[i] + w * (k1v[i] + 2.0 * k2v[i] + 2.0 * k3v[i] + k4v[i]);
        qd1[i] = qd[i] + w * (k1a[i] + 2.0 * k2a[i] + 2.0 * k3a[i] + k4a[i]);
    }
    (q1, qd1)
}
