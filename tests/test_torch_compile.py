"""ScheduleLR with a torch.compile'd optimizer step: a tensor lr changes without recompiling.

With ``lr=torch.tensor(...)`` the compiled Adam step reads the lr from a tensor, and
ScheduleLR writes each new value into that same tensor (``fill_``): one compile for
a whole changing schedule. A float lr is a constant baked into the graph, so a
changing schedule forces recompiles (counted here for contrast; the benchmark script
reports both counts). CPU inductor builds C++ kernels (needs a C++ compiler).
"""

from __future__ import annotations

import pytest
import torch
import torch._dynamo
from torch._dynamo.testing import CompileCounterWithBackend
from torch._dynamo.utils import counters

import lrkit as lk
from lrkit.torch import ScheduleLR

BASE = 0.01


def make(lr):
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 4)
    return model, torch.optim.Adam(model.parameters(), lr=lr)


def train(model, opt, sched, step_fn, steps, on_step=None):
    x = torch.randn(16, 8, generator=torch.Generator().manual_seed(1))
    for t in range(steps):
        if on_step is not None:
            on_step(t)
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        step_fn()
        sched.step()


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    counters.clear()
    yield
    torch._dynamo.reset()


def test_tensor_lr_compiles_once_over_a_changing_schedule():
    steps = 100
    schedule = lk.WarmupCosine(peak_lr=1.0, total_steps=steps, warmup_steps=10, min_lr=0.01)
    lr = torch.tensor(BASE)
    base = lr.item()  # the base value is the tensor's own (float32) value
    model, opt = make(lr)
    sched = ScheduleLR(opt, schedule)
    backend = CompileCounterWithBackend("inductor")

    @torch.compile(backend=backend)
    def compiled_step():
        opt.step()

    seen = []

    def check(t):
        g = opt.param_groups[0]
        # The same tensor object, updated in place, holding this step's value (as float32).
        assert g["lr"] is lr and isinstance(g["lr"], torch.Tensor)
        assert lr.item() == torch.tensor(base * schedule(t), dtype=lr.dtype).item()
        seen.append(lr.item())

    train(model, opt, sched, compiled_step, steps, check)
    assert len(set(seen)) > 90, "the schedule must really change the lr"
    # One compile for the whole run: no recompile when the lr changes.
    assert backend.frame_count == 1, f"{backend.frame_count} compiles"
    assert counters["stats"]["unique_graphs"] == 1

    # The compiled step really used each new lr: same weights as eager Adam on the same schedule.
    ref_model, ref_opt = make(BASE)
    ref_sched = ScheduleLR(ref_opt, schedule)
    train(ref_model, ref_opt, ref_sched, ref_opt.step, steps)
    for a, b in zip(model.parameters(), ref_model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    # Without the schedule the weights would differ: the comparison above can fail.
    const_model, const_opt = make(BASE)
    train(const_model, const_opt, ScheduleLR(const_opt, lk.Constant(1.0)), const_opt.step, steps)
    assert not torch.allclose(const_model.weight, ref_model.weight, rtol=1e-5, atol=1e-6)


def test_float_lr_recompiles_for_contrast():
    # Few steps: each compile costs seconds. The lr changes at every step of the warmup.
    steps = 6
    schedule = lk.WarmupCosine(peak_lr=1.0, total_steps=100, warmup_steps=10)
    model, opt = make(BASE)
    sched = ScheduleLR(opt, schedule)
    backend = CompileCounterWithBackend("inductor")

    @torch.compile(backend=backend)
    def compiled_step():
        opt.step()

    train(model, opt, sched, compiled_step, steps)
    assert isinstance(opt.param_groups[0]["lr"], float)
    assert opt.param_groups[0]["lr"] == BASE * schedule(steps)
    assert backend.frame_count >= 2, "a float lr that changes should force at least one recompile"


def test_scheduler_step_inside_the_compiled_function_does_not_recompile():
    # PyTorch's compiled-optimizer recipe calls scheduler.step() inside the compiled
    # function. ScheduleLR runs there eagerly (a graph break), like torch's own schedulers.
    steps = 30
    schedule = lk.WarmupCosine(peak_lr=1.0, total_steps=steps, warmup_steps=5, min_lr=0.01)
    lr = torch.tensor(BASE)
    base = lr.item()
    model, opt = make(lr)
    sched = ScheduleLR(opt, schedule)
    backend = CompileCounterWithBackend("inductor")

    @torch.compile(backend=backend)
    def update():
        opt.step()
        sched.step()

    x = torch.randn(16, 8, generator=torch.Generator().manual_seed(1))
    for t in range(steps):
        assert opt.param_groups[0]["lr"] is lr
        assert lr.item() == torch.tensor(base * schedule(t), dtype=lr.dtype).item()
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        update()
    assert backend.frame_count == 1, f"{backend.frame_count} compiles"
