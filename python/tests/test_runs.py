"""Runs, checkpoints and recordings from `engram train` / `engram record`, loaded in Python."""

import json

import numpy as np
import pytest

import engram


def test_run_loads_config_metrics_weights(gru_run):
    run_dir, _ = gru_run
    run = engram.load_run(run_dir)
    assert run.config["env"] == "CurlReach-v0" and run.config["policy"]["kind"] in ("gru", "Gru", "GRU")
    assert "return_mean" in run.metrics and "global_step" in run.metrics
    assert run.metrics["global_step"].dtype == np.float64 and len(run.metrics["update"]) >= 1
    w = run.weights
    assert list(w) == run.param_names and all(a.dtype == np.float32 for a in w.values())
    meta = json.loads((run.checkpoint / "meta.json").read_text())
    for p in meta["params"]:
        assert list(w[p["name"]].shape) == p["shape"]
    assert engram.load_run(run.checkpoint).checkpoint == run.checkpoint
    assert run.obs_rms["passthrough"] == [2] and len(run.obs_rms["mean"]) > 2


def _replay(policy, rec):
    """Runs the policy from Python in a Python env with the recording's seeds; returns the
    per-row actions, hidden states and observations in the recording's row order."""
    actions, hidden, observations = [], [], []
    for (e, rows), seed in zip(rec.episodes(), rec.manifest["seeds"]):
        env = policy.make_env()
        obs, _ = env.reset(seed=seed)
        state = policy.initial_state(1)
        for t in range(len(rows["t"])):
            observations.append(obs.copy())
            hidden.append(state[0].copy())
            a, state = policy.act(obs[None, :], state)
            actions.append(a[0])
            obs, _, term, trunc, _ = env.step(a[0])
        assert term or trunc
    return np.array(actions), np.array(hidden), np.array(observations)


@pytest.mark.parametrize("which", ["gru_run", "mlp_run"])
def test_checkpoint_acts_identically_from_python_and_rust(which, request):
    """A one-episode recording (Rust acts on a batch of one) replayed from Python: the same
    observations from the Python env, the same hidden states and the same actions, bit for
    bit."""
    run_dir, rec_dir = request.getfixturevalue(which)
    rec = engram.load_recording(rec_dir.parent / (rec_dir.name + "1"))
    policy = engram.load_run(run_dir).policy()
    assert rec.obs.shape == (rec.manifest["rows"], policy.obs_dim)
    actions, hidden, observations = _replay(policy, rec)
    np.testing.assert_array_equal(observations, rec.obs)
    np.testing.assert_array_equal(hidden.reshape(rec.hidden.shape), rec.hidden)
    np.testing.assert_array_equal(actions.reshape(rec.actions.shape).astype(np.float32), rec.actions)


@pytest.mark.parametrize("which", ["gru_run", "mlp_run"])
def test_batched_acting_matches_recorded_batches(which, request):
    """Rust recorded several episodes as one batch; acting on all recorded rows at once (each
    with its recorded hidden state) reproduces the actions and values. The matrix kernels of
    a batch of one or two rows round differently from larger batches (~1 ulp), which is why
    the bit-for-bit replay above uses a one-episode recording."""
    run_dir, rec_dir = request.getfixturevalue(which)
    rec = engram.load_recording(rec_dir)
    policy = engram.load_run(run_dir).policy()
    actions, _ = policy.act(rec.obs, rec.hidden)
    np.testing.assert_allclose(actions.reshape(rec.actions.shape).astype(np.float32), rec.actions, atol=1e-6)
    np.testing.assert_allclose(policy.values(rec.obs, rec.hidden), rec["values"], rtol=1e-5, atol=1e-6)


def test_recording_manifest_and_info(gru_run):
    _, rec_dir = gru_run
    rec = engram.load_recording(rec_dir)
    assert rec.manifest["env"] == "CurlReach-v0"
    info = rec.info_dict()
    assert set(info) == set(rec.manifest["info_keys"]) and all(len(v) == rec.manifest["rows"] for v in info.values())
    assert rec.terminated.dtype == np.uint8 and rec.episode.dtype == np.uint64
    n_eps = sum(1 for _ in rec.episodes())
    assert n_eps == rec.manifest["episodes"]


def test_policy_bad_inputs(gru_run, tmp_path):
    run_dir, _ = gru_run
    policy = engram.Policy(run_dir)
    with pytest.raises(ValueError, match="obs_dim"):
        policy.act(np.zeros((2, policy.obs_dim + 1), np.float32))
    with pytest.raises(ValueError, match="not finite"):
        policy.act(np.full(policy.obs_dim, np.nan, np.float32))
    with pytest.raises(ValueError, match="state has shape"):
        policy.act(np.zeros((2, policy.obs_dim), np.float32), policy.initial_state(3))
    with pytest.raises(ValueError, match="no checkpoint"):
        engram.Policy(tmp_path)
    with pytest.raises(FileNotFoundError):
        engram.load_run(tmp_path / "missing")
