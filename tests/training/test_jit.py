"""`CompiledStep`: one ahead-of-time compiled graph per input signature, no guard checks."""

import torch

from netknit.training.jit import CompiledStep, signature


def test_signature_tells_apart_what_a_graph_depends_on():
    a = torch.zeros(4, 3)
    assert signature((a, None)) == signature((torch.ones(4, 3), None))
    assert signature((a, None)) != signature((a, a[:, 0]))  # a sample weight appears
    assert signature((a,)) != signature((torch.zeros(2, 3),))  # the last, smaller batch
    assert signature((a,)) != signature((a.t().contiguous().t(),))  # other strides
    assert signature((a,)) != signature((a.double(),))
    assert signature(([a, a],)) != signature(((a, a),))
    assert signature(({"x": a},)) != signature(({"y": a},))


def test_compiled_once_per_signature_and_matches_the_function():
    weight = torch.randn(3, 2)

    def step(weight, x, scale):
        out = torch.relu(x @ weight)
        return out if scale is None else out * scale

    compiled = CompiledStep(step, weight)
    x = torch.randn(5, 3)
    for _ in range(3):
        torch.testing.assert_close(compiled(x, None), step(weight, x, None))
    torch.testing.assert_close(compiled(x[:2], None), step(weight, x[:2], None))
    torch.testing.assert_close(compiled(x, torch.tensor(2.0)), step(weight, x, 2.0))
    assert len(compiled._by_signature) == 3
    # The compiled graph reads the fixed arguments at each call: in-place updates are seen.
    with torch.no_grad():
        weight.mul_(-1)
    torch.testing.assert_close(compiled(x, None), step(weight, x, None))


def test_bound_methods_compile_with_their_instance():
    class Scaler:
        factor = 3.0

        def scale(self, x):
            return x * self.factor

    compiled = CompiledStep(Scaler().scale)
    torch.testing.assert_close(compiled(torch.ones(2)), torch.full((2,), 3.0))


def test_a_function_with_a_graph_break_still_runs():
    def step(x):
        if x.sum().item() > 0:  # a host read: no single graph
            return x + 1
        return x - 1

    compiled = CompiledStep(step)
    torch.testing.assert_close(compiled(torch.ones(3)), torch.full((3,), 2.0))
    torch.testing.assert_close(compiled(-torch.ones(3)), torch.full((3,), -2.0))
