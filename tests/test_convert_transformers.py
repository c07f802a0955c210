"""from_torch on transformers' schedules: the same lr at every step, every group."""

from __future__ import annotations

import pytest
import torch
from peer import assert_same_curve
from transformers import get_scheduler
from transformers import optimization as hf

import lrkit as lk
from lrkit.torch import from_torch

STEPS = 1500
BASES = (0.07, 0.0123)


def opt2():
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    return torch.optim.AdamW([{"params": [a]}, {"params": [b], "lr": BASES[1]}], lr=BASES[0])


def run(make, steps=STEPS):
    opt = opt2()
    sched = make(opt)
    conv = from_torch(sched)
    mine = conv if isinstance(conv, list) else [conv, conv]
    peer = [[], []]
    for _ in range(steps):
        for g in range(2):
            peer[g].append(opt.param_groups[g]["lr"])
        opt.step()
        sched.step()
    return sched, mine, peer


NAMED = {
    "linear": {},
    "cosine": {},
    "cosine_with_restarts": {"num_cycles": 3},
    "polynomial": {"lr_end": 1e-4, "power": 1.7},
    "constant": {},
    "constant_with_warmup": {},
    "inverse_sqrt": {"timescale": 333},
    "cosine_with_min_lr": {"min_lr": 1e-3},
    "cosine_warmup_with_min_lr": {"min_lr_rate": 0.05},
    "warmup_stable_decay": {
        "num_decay_steps": 300,
        "min_lr_ratio": 0.02,
        "decay_type": "cosine",
        "warmup_type": "1-sqrt",
    },
}


@pytest.mark.parametrize("name", list(NAMED))
@pytest.mark.parametrize("warmup", [0, 1, 97])
def test_get_scheduler_every_closed_form_name(name, warmup):
    kw = NAMED[name]

    def make(o):
        return get_scheduler(name, o, num_warmup_steps=warmup, num_training_steps=1100, scheduler_specific_kwargs=kw)

    sched, mine, peer = run(make)
    for g in range(2):
        assert mine[g].kind != "function", f"{name}: not a native schedule"
        assert_same_curve(peer[g], [mine[g](t) for t in range(STEPS)], f"{name} warmup={warmup} group {g}")
        assert lk.from_dict(mine[g].to_dict()) == mine[g]  # a config, not a wrapper


FUNCTIONS = {
    "linear": lambda o: hf.get_linear_schedule_with_warmup(o, 37, 1234),
    "linear-short": lambda o: hf.get_linear_schedule_with_warmup(o, 200, 150),
    "cosine-2.3-cycles": lambda o: hf.get_cosine_schedule_with_warmup(o, 50, 900, num_cycles=2.3),
    "cosine-past-the-end": lambda o: hf.get_cosine_schedule_with_warmup(o, 10, 600),
    "hard-restarts-0": lambda o: hf.get_cosine_with_hard_restarts_schedule_with_warmup(o, 20, 800, num_cycles=0),
    "hard-restarts-4": lambda o: hf.get_cosine_with_hard_restarts_schedule_with_warmup(o, 0, 801, num_cycles=4),
    "polynomial-past-the-end": lambda o: hf.get_polynomial_decay_schedule_with_warmup(
        o, 11, 700, lr_end=1e-5, power=0.5
    ),
    "polynomial-power-0": lambda o: hf.get_polynomial_decay_schedule_with_warmup(o, 11, 700, power=0.0),
    "inverse-sqrt-default-timescale": lambda o: hf.get_inverse_sqrt_schedule(o, 123),
    "inverse-sqrt-no-warmup": lambda o: hf.get_inverse_sqrt_schedule(o, 0),
    "cosine-min-lr-rate": lambda o: hf.get_cosine_with_min_lr_schedule_with_warmup(
        o, 33, 1000, num_cycles=0.7, min_lr_rate=0.1
    ),
    "warmup-lr-rate": lambda o: hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
        o, 40, 1000, min_lr=2e-4, warmup_lr_rate=0.1
    ),
    "warmup-lr-rate-W1": lambda o: hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
        o, 1, 1000, min_lr_rate=0.1, warmup_lr_rate=0.3
    ),
    "warmup-lr-rate-default": lambda o: hf.get_cosine_with_min_lr_schedule_with_warmup_lr_rate(
        o, 40, 1000, min_lr_rate=0.1
    ),
    "constant-with-warmup": lambda o: hf.get_constant_schedule_with_warmup(o, 77),
    "constant": lambda o: hf.get_constant_schedule(o),
}
for _w in ("linear", "cosine", "1-sqrt"):
    for _d in ("linear", "cosine", "1-sqrt"):
        FUNCTIONS[f"wsd-{_w}-{_d}"] = (
            lambda w, d: (
                lambda o: hf.get_wsd_schedule(
                    o, 60, 250, num_stable_steps=500, warmup_type=w, decay_type=d, min_lr_ratio=0.03, num_cycles=0.4
                )
            )
        )(_w, _d)
FUNCTIONS["wsd-no-stable"] = lambda o: hf.get_wsd_schedule(o, 60, 250, num_stable_steps=0)
FUNCTIONS["wsd-no-decay"] = lambda o: hf.get_wsd_schedule(o, 60, 0, num_stable_steps=100, min_lr_ratio=0.1)
FUNCTIONS["wsd-by-training-steps"] = lambda o: hf.get_wsd_schedule(o, 60, 300, num_training_steps=1000)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_schedule_functions_with_their_arguments(name):
    sched, mine, peer = run(FUNCTIONS[name])
    for g in range(2):
        assert mine[g].kind != "function", name
        assert_same_curve(peer[g], [mine[g](t) for t in range(STEPS)], f"{name} group {g}")


def test_not_closed_form_names_say_so():
    opt = opt2()
    # reduce_lr_on_plateau gives its Plateau policy (tests/test_plateau_convert.py)
    assert type(from_torch(get_scheduler("reduce_lr_on_plateau", opt))).__name__ == "Plateau"


def test_a_users_own_lambda_stays_a_function():
    opt = opt2()
    s = from_torch(torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 0.5), group=0)
    assert s.kind == "function" or "Function" in type(s).__name__ or "Function" in repr(s)
