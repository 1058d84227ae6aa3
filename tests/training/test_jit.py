"""`CompiledStep` and `CompiledForward`: one compiled graph per input signature, no guard checks."""

import torch

from netknit.training.jit import CompiledForward, CompiledStep, signature


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


class _TwoHeads(torch.nn.Module):
    """Nested inputs and outputs, a tied weight and a buffer."""

    def __init__(self):
        super().__init__()
        self.encode = torch.nn.Linear(3, 4)
        self.decode = torch.nn.Linear(4, 3)
        self.decode.weight = torch.nn.Parameter(self.encode.weight.t().detach().clone())
        self.tied = torch.nn.Linear(3, 4)
        self.tied.weight = self.encode.weight
        self.register_buffer("offset", torch.tensor(0.5))

    def forward(self, inputs):
        hidden = torch.relu(self.encode(inputs["x"]) + self.tied(inputs["pair"][1]))
        return {"code": hidden, "both": (self.decode(hidden) - self.offset, hidden.sum(1))}


def test_compiled_forward_takes_nested_inputs_and_reads_weights_at_each_call():
    module = _TwoHeads().eval()
    compiled = CompiledForward(module)
    inputs = {"x": torch.randn(5, 3), "pair": [torch.randn(5, 1), torch.randn(5, 3)]}
    with torch.inference_mode():
        torch.testing.assert_close(compiled(inputs), module(inputs))
        # A weight updated in place, a weight and a buffer replaced: all seen without a new graph.
        module.encode.weight.mul_(2)
        module.decode.bias = torch.nn.Parameter(torch.ones(3))
        module.offset = torch.tensor(-1.0)
        torch.testing.assert_close(compiled(inputs), module(inputs))
    assert [type(g).__name__ for g in compiled._by_signature.values()] == ["_InferenceGraph"]
