"""The PyTorch module built from a run reproduces engram's forward pass (skipped without
PyTorch, which is not a dependency)."""

import numpy as np
import pytest

import engram

torch = pytest.importorskip("torch")
from engram.torch import to_torch  # noqa: E402


@pytest.mark.parametrize("which", ["gru_run", "mlp_run"])
def test_torch_module_matches_engram_policy(which, request):
    run_dir, rec_dir = request.getfixturevalue(which)
    rec = engram.load_recording(rec_dir)
    run = engram.load_run(run_dir)
    policy = run.policy()
    module = to_torch(run)
    assert module.state_width == policy.state_width
    actions, state = policy.act(rec.obs, rec.hidden)
    with torch.no_grad():
        head, value, new_state = module(torch.from_numpy(rec.obs), torch.from_numpy(np.ascontiguousarray(rec.hidden)))
    if actions.dtype == np.int64:
        np.testing.assert_array_equal(head.argmax(-1).numpy(), actions)
    else:
        np.testing.assert_allclose(head.numpy(), actions, atol=1e-5)
    np.testing.assert_allclose(value.numpy(), policy.values(rec.obs, rec.hidden), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(new_state.numpy(), state, atol=1e-5)
