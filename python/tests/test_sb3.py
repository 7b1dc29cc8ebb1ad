"""Stable-Baselines3 as a client (needs `pip install stable-baselines3`, which pulls in
PyTorch; skipped when it is not installed, so `.ci/run` does not download it)."""

import gymnasium as gym
import numpy as np
import pytest

import engram  # noqa: F401

sb3 = pytest.importorskip("stable_baselines3")
from stable_baselines3.common.env_checker import check_env  # noqa: E402


@pytest.mark.parametrize("env_id", ["engram/CartPole-v1", "engram/CurlReach-v0", "engram/PlanarBipedDR-v0"])
def test_sb3_check_env(env_id):
    check_env(gym.make(env_id).unwrapped, warn=True)


@pytest.mark.parametrize("env_id", ["engram/CartPole-v1", "engram/CurlReach-v0"])
def test_sb3_ppo_trains(env_id):
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env(env_id, n_envs=4, seed=0)
    model = PPO("MlpPolicy", venv, n_steps=256, batch_size=256, seed=0, verbose=0)
    model.learn(total_timesteps=4096)
    obs = venv.reset()
    action, _ = model.predict(obs, deterministic=True)
    assert np.all(np.isfinite(action))
