"""torch and transformers conversions at their edges, side by side with the real peer:
SequentialLR nested in SequentialLR (the inner counter runs ahead), ChainedScheduler past a
cosine's T_max, param groups added after the scheduler was built, every transformers
``get_scheduler`` name with non-default settings and several param groups, and refusals
that say why."""

from __future__ import annotations

import warnings

import pytest
import torch
from peer import assert_same_curve
from torch.optim import lr_scheduler as L

import lrkit
from lrkit.core import Schedule
from lrkit.torch import from_torch

N = 1200  # positions compared

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:torch")


def _opt(lrs=(0.1, 0.03, 0.7)):
    ps = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(ps, lr=lrs[0])


def _run(sched, opt, n=N):
    """The lr of every group after 0..n-1 steps (torch raises past what it defines)."""
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            out.append([float(g["lr"]) for g in opt.param_groups])
            opt.step()
            sched.step()
    return out


def _compare(make, n=N, lrs=(0.1, 0.03, 0.7), native=True):
    opt = _opt(lrs)
    sched = make(opt)
    conv = from_torch(sched)
    groups = conv if isinstance(conv, list) else [conv] * len(opt.param_groups)
    got = _run(sched, opt, n)
    for g, s in enumerate(groups):
        assert isinstance(s, Schedule)
        assert_same_curve([row[g] for row in got], [s(float(t)) for t in range(n)], f"group {g}")
        if native:  # a native schedule: written as a config and read back equal
            assert lrkit.from_dict(s.to_dict()) == s
    return groups


# ---------------------------------------------------------------------- nested SequentialLR


def _leaf(kind, o):
    return {
        "exp": lambda: L.ExponentialLR(o, 0.995),
        "step": lambda: L.StepLR(o, 7, 0.7),
        "multistep": lambda: L.MultiStepLR(o, [3, 9, 9, 40], 0.6),
        "linear": lambda: L.LinearLR(o, 0.2, 0.9, 6),
        "constant": lambda: L.ConstantLR(o, 0.4, 5),
        "poly": lambda: L.PolynomialLR(o, 300, 1.7),
        "cos": lambda: L.CosineAnnealingLR(o, 40, eta_min=0.001),
        "cos0": lambda: L.CosineAnnealingLR(o, 13),
        "lambda": lambda: L.LambdaLR(o, lambda t: 1.0 / (1.0 + 0.01 * t)),
        "restarts": lambda: L.CosineAnnealingWarmRestarts(o, 11, 2),
        "cyclic": lambda: L.CyclicLR(o, 0.01, 0.2, 9),
    }[kind]()


LEAVES = ["exp", "step", "multistep", "linear", "constant", "poly", "cos", "cos0", "lambda", "restarts", "cyclic"]


@pytest.mark.parametrize("first", LEAVES)
@pytest.mark.parametrize("m_in,m_out", [(5, 12), (2, 30), (17, 18), (40, 300), (100, 300)])
def test_sequential_in_sequential(first, m_in, m_out):
    def make(o):
        inner = L.SequentialLR(o, [_leaf(first, o), L.ExponentialLR(o, 0.97)], [m_in])
        return L.SequentialLR(o, [inner, L.StepLR(o, 4, 0.8)], [m_out])

    _compare(make, native=first != "lambda")


@pytest.mark.parametrize("first", ["exp", "poly", "cos", "linear", "step"])
def test_three_levels_of_sequential(first):
    def make(o):
        a = L.SequentialLR(o, [_leaf(first, o), L.ConstantLR(o, 0.5, 3)], [8])
        b = L.SequentialLR(o, [a, L.ExponentialLR(o, 0.99)], [20])
        return L.SequentialLR(o, [b, L.MultiStepLR(o, [10, 50], 0.5)], [60])

    _compare(make)


@pytest.mark.parametrize("kinds", [("exp", "step"), ("constant", "linear", "poly"), ("multistep", "exp")])
def test_chained_inside_sequential(kinds):
    def make(o):
        ch = L.ChainedScheduler([_leaf(k, o) for k in kinds])
        return L.SequentialLR(o, [ch, L.ExponentialLR(o, 0.98)], [45])

    _compare(make)


def test_sequential_inside_chained_alone_and_nested_chains():
    _compare(
        lambda o: L.ChainedScheduler([L.SequentialLR(o, [L.ConstantLR(o, 0.3, 4), L.ExponentialLR(o, 0.99)], [10])])
    )
    _compare(
        lambda o: L.ChainedScheduler(
            [L.ChainedScheduler([L.StepLR(o, 5, 0.9), L.LinearLR(o, 0.1, 1.0, 20)]), L.ExponentialLR(o, 0.999)]
        )
    )


def test_refused_nestings_say_why():
    o = _opt()
    seq = L.SequentialLR(o, [L.ConstantLR(o, 0.5, 2), L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], [3])], [4])
    with pytest.raises(TypeError, match="SequentialLR.*NotImplementedError"):
        from_torch(seq)
    with pytest.raises(NotImplementedError):  # the peer itself fails there
        _run(seq, o, 10)
    o = _opt()
    ch = L.ChainedScheduler(
        [L.SequentialLR(o, [L.ConstantLR(o, 0.5, 2), L.ExponentialLR(o, 0.9)], [3]), L.ExponentialLR(o, 0.9)]
    )
    with pytest.raises(TypeError, match="ChainedScheduler.*discarding"):
        from_torch(ch)


# ------------------------------------------------------ ChainedScheduler past a cosine's T_max


@pytest.mark.parametrize(
    "others,order",
    [
        (("constant",), "before"),
        (("constant",), "after"),
        (("linear", "multistep"), "after"),
        (("linear", "multistep"), "before"),
        (("poly",), "after"),
        (("poly",), "before"),
    ],
)
def test_chained_cosine_past_t_max(others, order):
    def make(o):
        cos = L.CosineAnnealingLR(o, 13)
        rest = [_leaf(k, o) for k in others]
        return L.ChainedScheduler([cos] + rest if order == "before" else rest + [cos])

    _compare(make)


def test_chained_cosine_alone_and_with_settled_schedulers():
    _compare(lambda o: L.ChainedScheduler([L.CosineAnnealingLR(o, 50)]))
    _compare(
        lambda o: L.ChainedScheduler([L.ConstantLR(o, 0.25, 3), L.CosineAnnealingLR(o, 10), L.StepLR(o, 1000, 1.0)])
    )


@pytest.mark.parametrize(
    "make,why",
    [
        (lambda o: L.ChainedScheduler([L.CosineAnnealingLR(o, 20), L.ExponentialLR(o, 0.99)]), "ExponentialLR.*keeps"),
        (lambda o: L.ChainedScheduler([L.StepLR(o, 3, 0.5), L.CosineAnnealingLR(o, 20)]), "StepLR.*keeps"),
        (lambda o: L.ChainedScheduler([L.CosineAnnealingLR(o, 20), L.CosineAnnealingLR(o, 30)]), "several"),
        (lambda o: L.ChainedScheduler([L.CosineAnnealingLR(o, 20, 0.01), L.StepLR(o, 3)]), "eta_min"),
        (lambda o: L.ChainedScheduler([L.LambdaLR(o, lambda t: 1.0), L.StepLR(o, 3)]), "LambdaLR.*sets the lr"),
    ],
)
def test_chains_that_are_no_product_are_refused_with_the_reason(make, why):
    o = _opt()
    with pytest.raises(TypeError, match=f"ChainedScheduler: .*{why}"):
        from_torch(make(o))


def test_the_refused_chain_is_really_no_product_past_t_max():
    # the case refused above: the product of closed forms is off past T_max
    o = _opt((0.1,))
    sched = L.ChainedScheduler([L.CosineAnnealingLR(o, 20), L.ExponentialLR(o, 0.99)])
    got = [r[0] for r in _run(sched, o, 60)]
    import math

    prod = [0.1 * 0.99**t * (1 + math.cos(math.pi * t / 20)) / 2 for t in range(60)]
    assert all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(got[:21], prod[:21]))
    assert not math.isclose(got[30], prod[30], rel_tol=1e-3)


# --------------------------------------------------------------- groups added afterwards


@pytest.mark.parametrize("kind", ["exp", "step", "multistep", "linear", "constant", "poly"])
@pytest.mark.parametrize("after", [0, 4])
def test_param_group_added_after_the_scheduler(kind, after):
    opt = _opt((0.1, 0.03))
    sched = _leaf(kind, opt)
    pre = _run(sched, opt, after)
    opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.05})
    conv = from_torch(sched)
    got = pre + [r for r in _run(sched, opt, N - after)]
    for g in range(3):
        assert_same_curve(
            [r[g] for r in got[after:] if len(r) > g], [conv[g](float(t)) for t in range(after, N)], f"group {g}"
        )


def test_param_group_added_to_a_chain_and_a_cosine():
    opt = _opt((0.1,))
    sched = L.ChainedScheduler([L.ConstantLR(opt, 0.5, 6), L.ExponentialLR(opt, 0.99)])
    opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02})
    conv = from_torch(sched)
    got = _run(sched, opt)
    assert_same_curve([r[1] for r in got], [conv[1](float(t)) for t in range(N)], "added group")
    opt = _opt((0.1,))
    sched = L.CosineAnnealingLR(opt, 1500)  # torch fails for the added group past T_max
    opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02})
    conv = from_torch(sched)
    got = _run(sched, opt)
    assert_same_curve([r[1] for r in got], [conv[1](float(t)) for t in range(N)], "added group")


@pytest.mark.parametrize(
    "make",
    [
        lambda o: L.LambdaLR(o, lambda t: 0.9**t),
        lambda o: L.CyclicLR(o, 0.01, 0.1, 4),
        lambda o: __import__("transformers").get_scheduler("linear", o, 3, 50),
    ],
)
def test_param_group_added_to_a_scheduler_that_then_fails_is_refused(make):
    opt = _opt((0.1,))
    sched = make(opt)
    opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02})
    with pytest.raises(TypeError, match="add_param_group"):
        from_torch(sched)
    assert from_torch(sched, group=0)(0.0) == opt.param_groups[0]["lr"]
    with pytest.raises(ValueError):  # what torch does at the next step
        _run(sched, opt, 3)


# ---------------------------------------------------------------------------- transformers

HF = [
    ("linear", 37, 900, {}),
    ("linear", 950, 900, {}),
    ("cosine", 50, 1000, {"num_cycles": 1.3}),
    ("cosine_with_restarts", 20, 1000, {"num_cycles": 3}),
    ("polynomial", 40, 800, {"lr_end": 1e-3, "power": 2.5}),
    ("polynomial", 900, 300, {"lr_end": 2e-3, "power": 0.7}),
    ("constant", None, None, None),
    ("constant_with_warmup", 77, None, {}),
    ("inverse_sqrt", 30, None, {"timescale": 55}),
    ("cosine_with_min_lr", 25, 1000, {"num_cycles": 0.7, "min_lr_rate": 0.05}),
    ("cosine_warmup_with_min_lr", 25, 1000, {"num_cycles": 0.5, "min_lr": 1e-4, "warmup_lr_rate": 0.1}),
    (
        "warmup_stable_decay",
        30,
        None,
        {
            "num_stable_steps": 400,
            "num_decay_steps": 300,
            "min_lr_ratio": 0.02,
            "decay_type": "cosine",
            "warmup_type": "1-sqrt",
        },
    ),
    ("cosine_with_min_lr", 0, 1100, {"num_cycles": 0.5, "min_lr": 1e-3}),
    ("cosine_warmup_with_min_lr", 40, 1000, {"num_cycles": 1.5, "min_lr_rate": 0.1}),
    ("cosine_with_restarts", 0, 1000, {"num_cycles": 2.5}),
    ("linear", 0, 1000, {}),
    ("inverse_sqrt", 0, None, {}),
    ("polynomial", 0, 1000, {"lr_end": 0.05, "power": 0.0}),
    (
        "warmup_stable_decay",
        50,
        1000,
        {"num_decay_steps": 200, "min_lr_ratio": 0.0, "decay_type": "linear", "warmup_type": "linear"},
    ),
    (
        "warmup_stable_decay",
        10,
        None,
        {
            "num_stable_steps": 100,
            "num_decay_steps": 600,
            "min_lr_ratio": 0.1,
            "decay_type": "1-sqrt",
            "warmup_type": "cosine",
        },
    ),
]


@pytest.mark.parametrize("name,W,Nt,kw", HF, ids=[f"{h[0]}-{i}" for i, h in enumerate(HF)])
def test_every_transformers_name_several_groups(name, W, Nt, kw):
    from transformers import get_scheduler

    def make(o):
        if kw is None:
            return get_scheduler(name, o)
        return get_scheduler(name, o, num_warmup_steps=W, num_training_steps=Nt, scheduler_specific_kwargs=kw)

    groups = _compare(make, lrs=(0.1, 0.03, 0.7))
    assert len(groups) == 3


def test_transformers_polynomial_lr_end_is_absolute_for_the_default_lr_only():
    from transformers import get_scheduler

    def make(o):  # defaults["lr"] is 0.1: group 0's lr_end is 1e-3, the others keep the ratio 1e-2
        return get_scheduler(
            "polynomial",
            o,
            num_warmup_steps=10,
            num_training_steps=500,
            scheduler_specific_kwargs={"lr_end": 1e-3, "power": 1.5},
        )

    g = _compare(make, lrs=(0.1, 0.03, 0.7))
    assert g[0](600.0) == pytest.approx(1e-3) and g[2](600.0) == pytest.approx(0.7e-2)
    o = _opt()
    with pytest.raises(TypeError, match="divides by zero"):
        from_torch(get_scheduler("polynomial", o, num_warmup_steps=300, num_training_steps=300))


# reduce_lr_on_plateau gives its Plateau policy (tests/test_plateau_convert.py)
@pytest.mark.parametrize("name,why", [("greedy", "GreedyLR: it follows the training metrics")])
def test_transformers_metric_schedulers_are_refused_with_the_reason(name, why):
    from transformers import get_scheduler

    with pytest.raises(TypeError, match=why):
        from_torch(get_scheduler(name, _opt()))


def test_custom_cyclic_scale_fn_is_refused_with_the_reason():
    sched = L.CyclicLR(_opt(), 0.01, 0.1, 4, scale_fn=lambda x: 0.9**x)
    with pytest.raises(TypeError, match="CyclicLR: its scale_fn is your own function"):
        from_torch(sched)


@pytest.mark.parametrize("m_a,m_b", [(1, 20), (2, 20), (3, 4), (1, 2), (2, 3), (0, 5)])
@pytest.mark.parametrize("first", ["exp", "poly", "constant"])
def test_nested_milestones_passed_by_the_constructors(m_a, m_b, first):
    def make(o):
        a = L.SequentialLR(o, [_leaf(first, o), L.ExponentialLR(o, 0.9), L.PolynomialLR(o, 50, 1.3)], [m_a, m_a + 1])
        b = L.SequentialLR(o, [a, L.StepLR(o, 3, 0.8)], [m_b])
        return L.SequentialLR(o, [b, L.MultiStepLR(o, [10, 50], 0.5)], [40])

    _compare(make)


@pytest.mark.parametrize("m", [1, 2, 9])
def test_sequential_in_a_chain_in_a_sequential(m):
    def make(o):
        inner = L.SequentialLR(o, [L.ExponentialLR(o, 0.95), L.PolynomialLR(o, 40, 2.0)], [m])
        return L.SequentialLR(o, [L.ChainedScheduler([inner]), L.StepLR(o, 5, 0.5)], [30])

    _compare(make)


def test_chained_cosine_with_a_factor_that_reached_zero():
    _compare(lambda o: L.ChainedScheduler([L.LinearLR(o, 0.5, 0.0, 5), L.CosineAnnealingLR(o, 13)]))
    _compare(lambda o: L.ChainedScheduler([L.CosineAnnealingLR(o, 7), L.PolynomialLR(o, 30, 1.0)]))


def test_fractional_t_max_never_starts_again():
    _compare(lambda o: L.ChainedScheduler([L.CosineAnnealingLR(o, 12.5), L.ExponentialLR(o, 0.999)]))

    def make(o):
        inner = L.SequentialLR(o, [L.CosineAnnealingLR(o, 7.5), L.ConstantLR(o, 0.5, 2)], [60])
        return L.SequentialLR(o, [inner, L.ExponentialLR(o, 0.99)], [80])

    _compare(make)


def test_multiplicative_lr_after_a_milestone_and_in_a_chain():
    # torch starts it from the lr the previous scheduler left (it has no closed form)
    _compare(
        lambda o: L.SequentialLR(
            o,
            [
                L.StepLR(o, 7, 0.7),
                L.MultiplicativeLR(o, lambda t: 0.99),
                L.MultiplicativeLR(o, lambda t: 1.0 - 1e-4 * t),
            ],
            [22, 56],
        ),
        native=False,
    )

    def make(o):
        inner = L.SequentialLR(o, [L.ConstantLR(o, 0.4, 5), L.MultiplicativeLR(o, lambda t: 0.995)], [44])
        return L.SequentialLR(o, [inner, L.ExponentialLR(o, 0.99)], [100])

    _compare(make, native=False)
    _compare(lambda o: L.ChainedScheduler([L.MultiplicativeLR(o, lambda t: 0.999), L.StepLR(o, 9, 0.8)]), native=False)
    _compare(
        lambda o: L.SequentialLR(
            o,
            [
                L.ChainedScheduler([L.MultiplicativeLR(o, lambda t: 0.999), L.LinearLR(o, 0.1, 1.0, 30)]),
                L.MultiplicativeLR(o, lambda t: 0.9),
            ],
            [50],
        ),
        native=False,
    )


def _random_tree(r, o, depth):
    """A random nesting of SequentialLR and ChainedScheduler over torch's schedulers."""

    def leaf():
        k = r.choice(LEAVES + ["mult"])
        return L.MultiplicativeLR(o, lambda t: 0.99) if k == "mult" else _leaf(k, o)

    x = r.random()
    if depth == 0 or x < 0.4:
        return leaf()
    if x < 0.75:
        n = r.randint(2, 3)
        kids = [_random_tree(r, o, depth - 1)] + [leaf() for _ in range(n - 1)]
        return L.SequentialLR(o, kids, sorted(r.sample(range(60), n - 1)))
    return L.ChainedScheduler(
        [_random_tree(r, o, depth - 1) if r.random() < 0.3 else leaf() for _ in range(r.randint(1, 3))]
    )


def test_random_nestings_are_converted_exactly_or_refused_with_a_reason():
    import random

    converted = 0
    for seed in range(150):
        r = random.Random(seed)
        o = _opt((0.1, 0.03))
        try:
            sched = _random_tree(r, o, 3)
        except ValueError:  # a nesting torch itself refuses to build
            continue
        try:
            conv = from_torch(sched)
        except TypeError as e:
            assert "cannot convert torch.optim.lr_scheduler." in str(e) and ": " in str(e)
            continue
        groups = conv if isinstance(conv, list) else [conv, conv]
        got = _run(sched, o)
        for g in range(2):
            assert_same_curve(
                [row[g] for row in got], [groups[g](float(t)) for t in range(N)], f"seed {seed}, group {g}"
            )
        converted += 1
    assert converted >= 100
