"""Single engram envs as ``gymnasium.Env`` subclasses."""

from __future__ import annotations

import json
from typing import Any, Optional

import gymnasium as gym
import numpy as np

from engram import _engram


def space_from_dict(d: dict) -> gym.Space:
    """A ``gymnasium.spaces`` object from the dict the Rust core describes a space with."""
    if d["type"] == "discrete":
        return gym.spaces.Discrete(int(d["n"]))
    shape = tuple(int(s) for s in d["shape"])
    low = np.asarray(d["low"], dtype=np.float32).reshape(shape)
    high = np.asarray(d["high"], dtype=np.float32).reshape(shape)
    return gym.spaces.Box(low=low, high=high, shape=shape, dtype=np.float32)


def config_json(config: dict) -> str:
    """An env config as the JSON text the Rust core parses (NumPy scalars become numbers)."""

    def default(x: Any):
        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, np.ndarray):
            return x.tolist()
        raise TypeError(f"config value {x!r} of type {type(x).__name__} is not JSON-serializable")

    try:
        return json.dumps(config, default=default)
    except TypeError as e:
        raise ValueError(str(e)) from None


class EngramEnv(gym.Env):
    """An engram env behind Gymnasium's API.

    ``reset(seed=, options=)`` returns ``(obs, info)`` and ``step(action)`` the 5-tuple
    ``(obs, reward, terminated, truncated, info)``; ``obs`` is a float32 array and ``info`` a
    dict of floats. The registered time limit is engram's own (``max_episode_steps`` in the
    config overrides it). Bad actions and configs raise ``ValueError`` (wrong dtype:
    ``TypeError``), stepping before ``reset`` or after the end ``RuntimeError``, each with
    engram's message.
    """

    metadata = {"render_modes": []}

    def __init__(self, id: str, render_mode: Optional[str] = None, **config: Any):
        # Clients such as SB3's make_vec_env ask for "rgb_array" by default: accepted, and
        # render() says what to use instead. Other modes are refused.
        if render_mode not in (None, "rgb_array"):
            raise ValueError(
                f"{id}: render_mode={render_mode!r} is not supported from Python; "
                "render a run with `engram render`"
            )
        self._core = _engram.Env(id, config_json(config))
        self.engram_id = self._core.id
        self.config = dict(config)
        self.observation_space = space_from_dict(self._core.observation_space())
        self.action_space = space_from_dict(self._core.action_space())
        self.max_episode_steps = self._core.max_episode_steps()
        self.render_mode = render_mode

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        super().reset(seed=seed)
        if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"{self.engram_id}: seed = {seed!r}, must be a non-negative integer")
        return self._core.reset(None if seed is None else int(seed), options)

    def step(self, action):
        return self._core.step(action)

    def render(self):
        raise NotImplementedError(
            f"{self.engram_id}: frames are not rendered from Python; `engram render --checkpoint RUN` "
            "draws a run's hand paths or walker strip"
        )

    def state(self) -> Optional[np.ndarray]:
        """The physical state (for CartPole ``[x, x_dot, theta, theta_dot]``), if exposed."""
        s = self._core.state()
        return None if s is None else np.asarray(s)

    def __repr__(self) -> str:
        return f"EngramEnv<{self.engram_id}>"


def make(id: str, **config: Any) -> EngramEnv:
    """The engram env registered as ``id`` (``"CartPole-v1"`` or ``"engram/CartPole-v1"``)
    with its config fields as keyword arguments."""
    if id.startswith("engram/"):
        id = id[len("engram/") :]
    return EngramEnv(id, **config)
