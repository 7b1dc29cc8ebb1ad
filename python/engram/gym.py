"""Registration of every engram id with Gymnasium under the ``engram/`` namespace."""

from __future__ import annotations

import gymnasium as gym

from engram import _engram


def ids() -> list:
    """The engram ids, in registry order."""
    return [row[0] for row in _engram.registry()]


def register_envs() -> None:
    """Registers ``engram/<id>`` for every engram id (idempotent).

    Time limits are engram's own (applied inside the env), so Gymnasium adds no
    ``TimeLimit``; ``gymnasium.make("engram/CartPole-v1", max_episode_steps=...)`` adds
    Gymnasium's own, as for any env. Import ``engram`` before ``gymnasium.make``, or name the
    module in the id: ``gymnasium.make("engram:engram/CartPole-v1")``.
    """
    for id, _limit, _description in _engram.registry():
        name = f"engram/{id}"
        if name in gym.registry:
            continue
        gym.register(
            id=name,
            entry_point="engram.env:EngramEnv",
            kwargs={"id": id},
            max_episode_steps=None,
            disable_env_checker=True,
        )

