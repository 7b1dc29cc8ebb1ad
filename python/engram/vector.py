"""engram's vector env as a ``gymnasium.vector.VectorEnv`` with zero-copy NumPy arrays."""

from __future__ import annotations

from typing import Any, Optional

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from engram import _engram
from engram.env import config_json, space_from_dict


class EngramVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` engram envs stepped together in Rust, with the GIL released.

    The arrays ``reset`` and ``step`` return (observations, rewards, terminated, truncated
    and the info arrays) are read-only NumPy views on engram's own buffers, created once:
    a step writes into them and allocates nothing, so every call returns *the same* arrays
    with new contents. Copy what you keep (``obs.copy()``), as with EnvPool or
    ``SyncVectorEnv(copy=False)``.

    Autoreset modes are Gymnasium's: ``"next_step"`` (the default) and ``"same_step"``
    (the final observation and info in ``info["final_obs"]`` / ``info["final_info"]``).
    ``reset(seed=s)`` seeds env ``i`` with ``s + i``, so env ``i`` behaves exactly like
    ``engram.make(id)`` reset with ``s + i``.
    """

    def __init__(
        self,
        id: str,
        num_envs: int,
        threads: Optional[int] = None,
        autoreset: str = "next_step",
        **config: Any,
    ):
        modes = {"next_step": AutoresetMode.NEXT_STEP, "same_step": AutoresetMode.SAME_STEP}
        if isinstance(autoreset, AutoresetMode):
            autoreset = {m: k for k, m in modes.items()}.get(autoreset, autoreset.value)
        if autoreset not in modes:
            raise ValueError(f"{id}: autoreset = {autoreset!r}, must be \"next_step\" or \"same_step\"")
        if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"{id}: num_envs = {num_envs!r}, must be an integer >= 1")
        self._core = _engram.VecEnv(id, int(num_envs), config_json(config), autoreset, threads)
        self.engram_id = self._core.id
        self.num_envs = int(num_envs)
        self.single_observation_space = space_from_dict(self._core.single_observation_space())
        self.single_action_space = space_from_dict(self._core.single_action_space())
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {"autoreset_mode": modes[autoreset], "render_modes": []}
        self.render_mode = None
        self._same_step = self.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
        (
            self._obs,
            self._final_obs,
            self._rewards,
            self._terminated,
            self._truncated,
            infos,
            mask,
            final_infos,
            final_mask,
            self._ended,
        ) = self._core.views()
        keys = self._core.info_keys()
        # Column views, made once: building the info dict costs no copy of the data.
        self._info_cols = [(k, infos[:, j], mask[:, j]) for j, k in enumerate(keys)]
        self._final_cols = [(k, final_infos[:, j], final_mask[:, j]) for j, k in enumerate(keys)]

    def _infos(self) -> dict:
        info = {}
        for k, col, m in self._info_cols:
            info[k] = col
            info[f"_{k}"] = m
        if self._same_step and self._ended.any():
            ended = self._ended
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(ended):
                final_obs[i] = self._final_obs[i].copy()
            final_info = {}
            for k, col, m in self._final_cols:
                final_info[k] = np.where(ended, col, 0.0)
                final_info[f"_{k}"] = m & ended
            info["final_obs"] = final_obs
            info["_final_obs"] = ended.copy()
            info["final_info"] = final_info
            info["_final_info"] = ended.copy()
        return info

    def reset(self, *, seed: Optional[int] = None, options: Optional[dict] = None):
        super().reset(seed=seed)
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(
                f"VectorEnv<{self.engram_id}>: seed = {seed!r}; engram seeds env i with seed + i, "
                "so pass one integer (or None)"
            )
        if seed is not None and seed < 0:
            raise ValueError(f"VectorEnv<{self.engram_id}>: seed = {seed}, must be >= 0")
        self._core.reset(None if seed is None else int(seed), options)
        return self._obs, self._infos()

    def step(self, actions):
        self._core.step(actions)
        return self._obs, self._rewards, self._terminated, self._truncated, self._infos()

    def __repr__(self) -> str:
        return f"EngramVectorEnv<{self.engram_id}, num_envs={self.num_envs}>"


def make_vec(
    id: str,
    num_envs: int,
    threads: Optional[int] = None,
    autoreset: str = "next_step",
    **config: Any,
) -> EngramVectorEnv:
    """``num_envs`` copies of ``id``; ``threads``: rayon threads (``None``: all cores, ``1``:
    the calling thread); ``autoreset``: ``"next_step"`` or ``"same_step"``."""
    if id.startswith("engram/"):
        id = id[len("engram/") :]
    return EngramVectorEnv(id, num_envs, threads=threads, autoreset=autoreset, **config)
