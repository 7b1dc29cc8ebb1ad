//! Tests of the supervised trainer.

use super::*;

fn cfg(arch: Arch, hidden: usize, steps: u64) -> FitConfig {
    FitConfig::from_toml(&format!(
        "seed = 3\n[task]\nid = \"FlipFlop-v0\"\n[net]\narch = \"{}\"\nhidden = {hidden}\n[train]\nsteps = {steps}\nbatch = 32\nlr = 0.01\neval_every = 25\neval_batch = 128\ncheckpoint_every = 1000\n",
        serde_json::to_value(arch).unwrap().as_str().unwrap()
    ))
    .unwrap()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("engram-fit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The network's full gradient (readout + BPTT + both penalties) against central finite
/// differences in the loss, for every architecture, without and with a fixed draw of
/// recurrent noise (std 0.5, the same draw in the gradient and in every perturbed forward):
/// |Δ| ≤ 2e-2 · max|g| + 1e-4 (f32 loss, step 3e-3 in the parameter, parameters moved off
/// their initial values).
#[test]
fn network_gradient_matches_finite_differences() {
    for arch in Arch::ALL {
        for noise_std in [0.0f32, 0.5] {
            let mut c = cfg(arch, 6, 1);
            c.train.batch = 3;
            c.task.config = serde_json::json!({"steps": 12, "pulse_prob": 0.3});
            let mut f = Fitter::new(c).unwrap();
            // Away from the initial values (zero biases sit on ReLU's kink when inputs are 0).
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
            for p in &mut f.net.params {
                for v in p.iter_mut() {
                    *v += rand::Rng::gen_range(&mut rng, -0.3..0.3);
                }
            }
            let (b, t) = (3, 12);
            f.batch.fill(f.task.as_ref(), 1, 0, b);
            f.tm.load(&f.batch);
            let mut draw = Vec::new();
            recurrent_noise(3, 7, noise_std, t * b * 6, &mut draw);
            let noise = (noise_std > 0.0).then_some(&draw[..]);
            let reg = (1e-3, 1e-2);
            let mut grads = Vec::new();
            f.net.forward(&f.tm.x, noise, t, b, &mut f.ws);
            let noisy_loss =
                f.net.loss_and_grads(&f.tm.x, &f.tm.y, &f.tm.m, t, b, reg, &mut f.ws, Some(&mut grads)).total();
            if noise.is_some() {
                f.net.forward(&f.tm.x, None, t, b, &mut f.ws);
                let clean = f.net.loss_and_grads(&f.tm.x, &f.tm.y, &f.tm.m, t, b, reg, &mut f.ws, None).total();
                assert!((noisy_loss - clean).abs() > 1e-4, "{arch:?}: the noise changes nothing ({clean})");
            }
            for (pi, g) in grads.iter().enumerate() {
                let gmax = g.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                for k in (0..g.len()).step_by(7) {
                    let mut loss_at = |d: f32| {
                        let mut net = f.net.clone();
                        net.params[pi][k] += d;
                        net.forward(&f.tm.x, noise, t, b, &mut f.ws);
                        net.loss_and_grads(&f.tm.x, &f.tm.y, &f.tm.m, t, b, reg, &mut f.ws, None).total()
                    };
                    let h = 3e-3;
                    let fd = ((loss_at(h) - loss_at(-h)) / (2.0 * h as f64)) as f32;
                    assert!(
                        (fd - g[k]).abs() <= 2e-2 * gmax + 1e-4,
                        "{arch:?} noise {noise_std} param {pi}[{k}]: fd {fd} vs {}",
                        g[k]
                    );
                }
            }
        }
    }
}

/// Recurrent noise: a config without the field and one with `recurrent_noise_std = 0` train
/// bit-identically and serialize identically; a noisy run is deterministic, resumes
/// bit-identically, and differs from the noise-free one.
#[test]
fn recurrent_noise_is_off_by_default_and_deterministic() {
    let base = cfg(Arch::RnnTanh, 8, 30);
    let mut zero = base.clone();
    zero.train.recurrent_noise_std = 0.0;
    assert_eq!(toml::to_string(&base).unwrap(), toml::to_string(&zero).unwrap());
    let mut noisy = base.clone();
    noisy.train.recurrent_noise_std = 0.2;
    let text = toml::to_string(&noisy).unwrap();
    assert!(text.contains("recurrent_noise_std = 0.2"), "{text}");
    let train = |c: &FitConfig, steps: u64| {
        let mut f = Fitter::new(c.clone()).unwrap();
        for _ in 0..steps {
            f.train_step().unwrap();
        }
        f
    };
    let (a, b) = (train(&base, 30), train(&zero, 30));
    assert_eq!(a.net.params, b.net.params);
    let (n1, n2) = (train(&noisy, 30), train(&noisy, 30));
    assert_eq!(n1.net.params, n2.net.params, "noisy runs are deterministic");
    assert_ne!(n1.net.params, a.net.params, "the noise enters training");
    let (d1, d2) = (tmp("noise-a"), tmp("noise-b"));
    fit_new(noisy.clone(), &d1, &mut |_| {}).unwrap();
    fit_new_partial(noisy, &d2, &mut |_| {}, 13).unwrap();
    fit_resume(&d2, &mut |_| {}, None).unwrap();
    assert_eq!(load_checkpoint(&d1).unwrap().net.params, load_checkpoint(&d2).unwrap().net.params);
    let mut bad = base;
    bad.train.recurrent_noise_std = -0.1;
    let e = Fitter::new(bad).err().unwrap().to_string();
    assert!(e.contains("train.recurrent_noise_std = -0.1") && e.contains("≥ 0"), "{e}");
    let _ = (std::fs::remove_dir_all(&d1), std::fs::remove_dir_all(&d2));
}

#[test]
fn fitting_is_deterministic_and_resume_is_bit_identical() {
    let (a, b) = (tmp("det-a"), tmp("det-b"));
    let c = cfg(Arch::Gru, 8, 60);
    let ra = fit_new(c.clone(), &a, &mut |_| {}).unwrap();
    // Interrupted after 35 steps, then resumed.
    fit_new_partial(c, &b, &mut |_| {}, 35).unwrap();
    let rb = fit_resume(&b, &mut |_| {}, None).unwrap();
    assert_eq!(ra.final_eval_nmse.to_bits(), rb.final_eval_nmse.to_bits());
    let (fa, fb) = (load_checkpoint(&a).unwrap(), load_checkpoint(&b).unwrap());
    assert_eq!(fa.step, 60);
    assert_eq!(fa.net.params, fb.net.params, "weights bit-identical after resume");
    assert_eq!(fa.adam.m, fb.adam.m);
    let strip = |p: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(p.join("metrics.csv"))
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(strip(&a), strip(&b), "metrics equal apart from the throughput column");
    assert!(fit_new(cfg(Arch::Gru, 8, 60), &a, &mut |_| {}).is_err(), "refuses to overwrite a run");
    let _ = (std::fs::remove_dir_all(&a), std::fs::remove_dir_all(&b));
}

/// A GRU-32 learns the 3-bit flip-flop to the criterion (normalized MSE ≤ 0.01 on 128
/// held-out trials) within 1,500 Adam steps of 32 trials.
#[test]
fn gru32_learns_the_flip_flop_to_criterion() {
    let d = tmp("learn");
    let r = fit_new(cfg(Arch::Gru, 32, 1500), &d, &mut |_| {}).unwrap();
    assert!(r.reached_criterion, "{r:?}");
    let saved: FitResult = crate::io::read_json(&d.join("result.json")).unwrap();
    assert_eq!(saved, r);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_configs_name_the_field_and_bound() {
    let mut c = cfg(Arch::Lstm, 8, 10);
    c.net.n_out = Some(5);
    let e = Fitter::new(c).err().unwrap().to_string();
    assert!(e.contains("net.n_out = 5") && e.contains("3 for FlipFlop-v0"), "{e}");
    let mut c = cfg(Arch::Lstm, 8, 10);
    c.train.lr = -1.0;
    let e = Fitter::new(c).err().unwrap().to_string();
    assert!(e.contains("train.lr = -1") && e.contains("> 0"), "{e}");
    let mut c = cfg(Arch::Lstm, 8, 10);
    c.task.config = serde_json::json!({"pulse_prob": 2.0});
    let e = Fitter::new(c).err().unwrap().to_string();
    assert!(e.contains("pulse_prob") && e.contains("[0, 1]"), "{e}");
}

#[test]
fn a_diverged_run_stops_and_keeps_its_last_checkpoint() {
    let d = tmp("diverge");
    let mut c = cfg(Arch::RnnRelu, 8, 200);
    c.train.lr = 1e30;
    c.train.clip = 1e30;
    c.train.checkpoint_every = 1;
    c.train.stop_at_criterion = false;
    let e = fit_new(c, &d, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("diverged") && e.contains("last good checkpoint"), "{e}");
    assert!(load_checkpoint(&d).is_ok());
    let _ = std::fs::remove_dir_all(&d);
}
