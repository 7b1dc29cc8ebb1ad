"""Single envs: Gymnasium's own checker on every id, registration, seeding, errors."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import engram

IDS = engram.ids()


def test_every_id_registered_under_engram_namespace():
    assert "CartPole-v1" in IDS and "CurlReach-v0" in IDS and "PlanarBipedDR-v0" in IDS
    for i in IDS:
        assert f"engram/{i}" in gym.registry


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_check_env(env_id):
    env = gym.make(f"engram/{env_id}")
    assert isinstance(env.unwrapped, gym.Env)
    # Gymnasium's checker: spaces, reset/step API, seeding determinism, returned data.
    check_env(env.unwrapped, skip_render_check=True)
    # And through gymnasium.make's own wrappers with the passive checker on.
    env = gym.make(f"engram/{env_id}", disable_env_checker=False)
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
    assert all(isinstance(k, str) and isinstance(v, float) for k, v in info.items())


def test_engram_time_limit_is_applied():
    env = engram.make("Pendulum-v1")
    assert env.max_episode_steps == 200
    env.reset(seed=0)
    for t in range(200):
        _, _, terminated, truncated, _ = env.step(np.zeros(1, np.float32))
        assert not terminated
    assert truncated
    short = gym.make("engram/Pendulum-v1", max_episode_steps=5)
    short.reset(seed=0)
    assert [short.step(np.zeros(1, np.float32))[3] for _ in range(5)] == [False] * 4 + [True]


def test_config_reaches_the_env():
    env = engram.make("CartPole-v1", max_episode_steps=7)
    env.reset(seed=1)
    done = [env.step(t % 2)[3] for t in range(7)]
    assert done[-1] and not any(done[:-1])


def test_seeding_is_deterministic_and_matches_gymnasium_cartpole():
    a, b = engram.make("CartPole-v1"), gym.make("CartPole-v1")
    oa, _ = a.reset(seed=42)
    ob, _ = b.reset(seed=42)
    assert oa.dtype == np.float32
    # engram's CartPole-v1 is calibrated against Gymnasium's: same physics from the same state.
    b.unwrapped.state = a.state().astype(np.float64)
    for t in range(50):
        act = t % 2
        sa, sb = a.step(act), b.step(act)
        np.testing.assert_allclose(sa[0], sb[0], rtol=1e-5, atol=1e-6)
        assert sa[1] == sb[1] and sa[2] == sb[2]
        if sa[2]:
            break


def test_reset_options_and_info_are_floats():
    env = engram.make("CurlReach-v0")
    obs, info = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape and obs.dtype == np.float32
    _, _, _, _, info = env.step(np.zeros(2, np.float32))
    assert info and all(type(v) is float for v in info.values())
    with pytest.raises(ValueError, match="reset option `no_such_option`"):
        env.reset(seed=0, options={"no_such_option": 1.0})


@pytest.mark.parametrize(
    "action, exc, match",
    [
        (np.zeros(3, np.float32), ValueError, r"shape \[3\], expected \[2\]"),
        (np.zeros((2, 2), np.float32), ValueError, "shape"),
        (np.array([np.nan, 0.0], np.float32), ValueError, "not finite"),
        (np.array([np.inf, 0.0]), ValueError, "not finite"),
        (np.zeros(2, np.int64), TypeError, "float32 or float64"),
        ("left", TypeError, "Box action"),
    ],
)
def test_bad_box_actions(action, exc, match):
    env = engram.make("CurlReach-v0")
    env.reset(seed=0)
    with pytest.raises(exc, match=match):
        env.step(action)
    env.step(np.zeros(2, np.float32))  # the env is still usable


@pytest.mark.parametrize(
    "action, exc, match",
    [
        (2, ValueError, r"not an integer in \[0, 2\)"),
        (-1, ValueError, r"not an integer in \[0, 2\)"),
        (0.5, TypeError, "must be an integer"),
        (np.array([0.0]), ValueError, "one integer"),
    ],
)
def test_bad_discrete_actions(action, exc, match):
    env = engram.make("CartPole-v1")
    env.reset(seed=0)
    with pytest.raises(exc, match=match):
        env.step(action)


def test_order_errors():
    env = engram.make("CartPole-v1")
    with pytest.raises(RuntimeError, match=r"before reset"):
        env.step(0)
    env.reset(seed=0)
    while not env.step(1)[2]:
        pass
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step(1)
    env.reset()
    env.step(0)


def test_bad_ids_and_configs():
    with pytest.raises(ValueError, match="unknown env id `NoSuchEnv-v0`; registered ids: CartPole-v1"):
        engram.make("NoSuchEnv-v0")
    with pytest.raises(ValueError, match="cannot parse config.*no_such_field"):
        engram.make("CartPole-v1", no_such_field=1)
    with pytest.raises(ValueError, match="max_episode_steps"):
        engram.make("CartPole-v1", max_episode_steps=0)
    with pytest.raises(ValueError, match="render_mode"):
        engram.make("CartPole-v1", render_mode="human")
    with pytest.raises(ValueError, match="not JSON-serializable"):
        engram.make("CartPole-v1", gravity=object())
