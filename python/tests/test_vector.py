"""Vector envs: Gymnasium's SyncVectorEnv as the reference, zero-copy views, errors."""

import gymnasium as gym
import numpy as np
import pytest

import engram


def _reference(env_id, n, mode):
    return gym.vector.SyncVectorEnv([lambda: engram.make(env_id) for _ in range(n)], autoreset_mode=mode)


def _actions(space, rng, n):
    if isinstance(space, gym.spaces.Discrete):
        return rng.integers(0, space.n, n)
    return rng.uniform(space.low, space.high, (n, *space.shape)).astype(np.float32)


@pytest.mark.parametrize("mode", ["next_step", "same_step"])
@pytest.mark.parametrize("env_id, steps", [("CartPole-v1", 400), ("CurlReach-v0", 300), ("PlanarBipedDR-v0", 60)])
def test_matches_sync_vector_env_bit_for_bit(env_id, steps, mode):
    n = 6
    v = engram.make_vec(env_id, n, autoreset=mode, threads=2)
    ref = _reference(env_id, n, v.metadata["autoreset_mode"])
    assert isinstance(v, gym.vector.VectorEnv)
    assert v.single_observation_space == ref.single_observation_space
    assert v.single_action_space == ref.single_action_space
    assert v.observation_space == ref.observation_space and v.action_space == ref.action_space
    o, info = v.reset(seed=11)
    ro, rinfo = ref.reset(seed=11)
    np.testing.assert_array_equal(o, ro)
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(steps):
        a = _actions(v.single_action_space, rng, n)
        o, r, te, tr, info = v.step(a)
        ro, rr, rte, rtr, rinfo = ref.step(a)
        assert v.observation_space.contains(o)
        np.testing.assert_array_equal(o, ro, err_msg=f"step {t}")
        np.testing.assert_array_equal(r, rr)
        np.testing.assert_array_equal(te, rte)
        np.testing.assert_array_equal(tr, rtr)
        assert r.dtype == np.float64 and te.dtype == np.bool_ and tr.dtype == np.bool_
        for k, val in rinfo.items():
            if k in ("final_obs", "_final_obs", "final_info", "_final_info"):
                continue
            np.testing.assert_array_equal(info[k], val, err_msg=k)
        if "final_obs" in rinfo:
            ended += 1
            np.testing.assert_array_equal(info["_final_obs"], rinfo["_final_obs"])
            for i in np.flatnonzero(rinfo["_final_obs"]):
                np.testing.assert_array_equal(info["final_obs"][i], rinfo["final_obs"][i])
                for k, val in rinfo["final_info"].items():
                    assert info["final_info"][k][i] == val[i], k
        else:
            assert "final_obs" not in info
    if mode == "same_step" and env_id != "PlanarBipedDR-v0":
        assert ended > 0


def test_arrays_are_views_on_engram_buffers():
    v = engram.make_vec("CurlReach-v0", 8)
    o0, info0 = v.reset(seed=0)
    o1, r1, te1, tr1, info1 = v.step(np.zeros((8, 2), np.float32))
    o2, r2, te2, tr2, info2 = v.step(np.zeros((8, 2), np.float32))
    # Same objects every step: no per-step allocation; NumPy does not own the memory.
    assert o0 is o1 is o2 and r1 is r2 and te1 is te2 and tr1 is tr2
    for arr in (o2, r2, te2, tr2):
        assert not arr.flags.owndata and not arr.flags.writeable
    k = next(iter(info2))
    assert info1[k] is info2[k] and not info2[k].flags.owndata


def test_thread_count_does_not_change_results():
    rng = np.random.default_rng(1)
    acts = [rng.uniform(-1, 1, (16, 6)).astype(np.float32) for _ in range(40)]
    outs = []
    for threads in (1, 2, None):
        v = engram.make_vec("PlanarBiped-v0", 16, threads=threads, autoreset="same_step")
        v.reset(seed=5)
        outs.append([v.step(a)[0].copy() for a in acts])
    for other in outs[1:]:
        for x, y in zip(outs[0], other):
            np.testing.assert_array_equal(x, y)


def test_vector_env_bad_inputs():
    v = engram.make_vec("CurlReach-v0", 4)
    with pytest.raises(RuntimeError, match="before reset"):
        v.step(np.zeros((4, 2), np.float32))
    v.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \[3, 2\], expected \[4, 2\]"):
        v.step(np.zeros((3, 2), np.float32))
    with pytest.raises(TypeError, match="dtype"):
        v.step(np.zeros((4, 2), np.int64))
    with pytest.raises(TypeError, match="NumPy array"):
        v.step([[0.0, 0.0]] * 4)
    bad = np.zeros((4, 2), np.float32)
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        v.step(bad)
    c = engram.make_vec("CartPole-v1", 3)
    c.reset(seed=0)
    with pytest.raises(ValueError, match=r"not an integer in \[0, 2\)"):
        c.step(np.array([0, 1, 5]))
    with pytest.raises(ValueError, match="unknown env id"):
        engram.make_vec("Nope-v0", 2)
    with pytest.raises(ValueError, match="num_envs"):
        engram.make_vec("CartPole-v1", 0)
    with pytest.raises(ValueError, match="autoreset"):
        engram.make_vec("CartPole-v1", 2, autoreset="sometimes")
    with pytest.raises(ValueError, match="cannot parse config"):
        engram.make_vec("CartPole-v1", 2, bogus=1)


def test_sample_actions_from_batched_space_work():
    for env_id in ("CartPole-v1", "Pendulum-v1", "PlanarBipedDR-v0"):
        v = engram.make_vec(env_id, 5)
        v.reset(seed=0)
        v.action_space.seed(0)
        for _ in range(20):
            o, *_ = v.step(v.action_space.sample())
            assert v.observation_space.contains(o)


def test_threads_share_nothing_and_never_deadlock():
    """Stepping releases the GIL: separate vector envs step from separate Python threads, and
    one vector env used from two threads at once raises instead of deadlocking."""
    import threading

    errors, done = [], []
    shared = engram.make_vec("PlanarBiped-v0", 32, threads=1)
    shared.reset(seed=0)
    own = [engram.make_vec("PlanarBiped-v0", 32, threads=1) for _ in range(2)]

    def work(v, k):
        if v is not shared:
            v.reset(seed=k)
        a = np.zeros((32, 6), np.float32)
        for _ in range(100):
            try:
                v.step(a)
            except RuntimeError as e:
                errors.append(str(e))
        done.append(k)

    ts = [threading.Thread(target=work, args=(v, k)) for k, v in enumerate([shared, shared, *own])]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=120)
    assert sorted(done) == [0, 1, 2, 3]
    assert all("another thread" in e for e in errors)
