"""lrkit.rangetest.torch against torch-lr-finder's LRFinder and Lightning's Tuner.lr_find on
the same model, data and seed (sklearn's digits, CPU): the same lrs, losses, stop point and
suggestions; and the model and optimizer put back bit for bit."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings

import numpy as np
import pytest
import sklearn  # noqa: F401  (a test dependency: never skipped)
import torch

from lrkit.rangetest import RangeTest, sweep  # noqa: E402
from lrkit.rangetest.torch import range_test  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _deterministic_one_thread():
    """Deterministic algorithms and one thread for these tests, put back after."""
    n, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    yield
    torch.set_num_threads(n)
    torch.use_deterministic_algorithms(det)


def _digits() -> torch.utils.data.TensorDataset:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return torch.utils.data.TensorDataset(torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y))


DATA = _digits()


def loader(batch_size: int = 64, shuffle: bool = False) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(DATA, batch_size=batch_size, shuffle=shuffle)


def net(seed: int = 0, dropout: float = 0.0) -> torch.nn.Module:
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(64, 32), torch.nn.ReLU()]
    if dropout:
        layers.append(torch.nn.Dropout(dropout))
    return torch.nn.Sequential(*layers, torch.nn.Linear(32, 10))


def make(opt: str = "adam", lr: float = 1e-3, seed: int = 0, dropout: float = 0.0):
    m = net(seed, dropout)
    o = (
        torch.optim.Adam(m.parameters(), lr=lr)
        if opt == "adam"
        else torch.optim.SGD(m.parameters(), lr=lr, momentum=0.9)
    )
    return m, o


LOSS = torch.nn.CrossEntropyLoss()


def state_of(model, optimizer) -> list:
    """Every tensor and number of the model and optimizer, for bit-for-bit comparison."""
    out = [("p", n, p.detach().clone()) for n, p in model.state_dict(keep_vars=True).items()]
    out += [("g", n, None if p.grad is None else p.grad.clone()) for n, p in model.named_parameters()]
    sd = optimizer.state_dict()
    for k, st in sd["state"].items():
        for name, v in st.items():
            out.append(("s", (k, name), v.clone() if torch.is_tensor(v) else v))
    out.append(("groups", None, [{k: v for k, v in g.items()} for g in sd["param_groups"]]))
    out.append(("modes", None, [m.training for m in model.modules()]))
    return out


def assert_same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for (ka, na, va), (kb, nb, vb) in zip(a, b):
        assert (ka, na) == (kb, nb)
        if torch.is_tensor(va):
            assert va.dtype == vb.dtype and torch.equal(va, vb), (ka, na)
        else:
            assert va == vb, (ka, na)


def warm(model, optimizer, steps: int = 3) -> None:
    """A few real updates first, so the optimizer has state to restore."""
    it = iter(loader(32))
    for _ in range(steps):
        x, y = next(it)
        optimizer.zero_grad()
        LOSS(model(x), y).backward()
        optimizer.step()


@contextlib.contextmanager
def quiet():
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        yield


def peer_finder(opt, lr, start_lr, end_lr, num_iter, step_mode, accumulation_steps=1, batch_size=64, **kw):
    from torch_lr_finder import LRFinder

    model, optimizer = make(opt, lr)
    finder = LRFinder(model, optimizer, LOSS)
    with quiet():
        finder.range_test(
            loader(batch_size),
            start_lr=start_lr,
            end_lr=end_lr,
            num_iter=num_iter,
            step_mode=step_mode,
            accumulation_steps=accumulation_steps,
            **kw,
        )
    return finder


# ---------------------------------------------------------------------------------------------
# the lr sequences, from the peers' own schedulers


@pytest.mark.parametrize("mode", ["exp", "linear"])
@pytest.mark.parametrize("a,b,n", [(1e-7, 10.0, 100), (3e-4, 2.5, 37), (1e-3, 1.0, 2)])
def test_lr_sequence_is_torch_lr_finders(mode, a, b, n):
    from torch_lr_finder.lr_finder import ExponentialLR, LinearLR

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=a)
    sched = (ExponentialLR if mode == "exp" else LinearLR)(opt, b, n)
    peer = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stepping the scheduler without training
        for _ in range(n):
            peer.append(sched.get_lr()[0])
            assert opt.param_groups[0]["lr"] == peer[-1]
            sched.step()
    assert RangeTest(a, b, n, mode).lrs() == peer
    assert sweep(a, b, n, mode)(np.arange(n)).tolist() == peer


@pytest.mark.parametrize("mode", ["exp", "linear"])
@pytest.mark.parametrize("a,b,n", [(1e-8, 1.0, 100), (3e-4, 2.5, 37), (1e-3, 1.0, 3)])
def test_lr_sequence_is_lightnings(mode, a, b, n):
    from pytorch_lightning.tuner.lr_finder import _ExponentialLR, _LinearLR

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=a)
    for g in opt.param_groups:  # as Lightning's _exchange_scheduler does
        g["initial_lr"] = a
    sched = (_ExponentialLR if mode == "exp" else _LinearLR)(opt, b, n)
    peer = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            peer.append(sched.lr[0])
            assert opt.param_groups[0]["lr"] == peer[-1]
            opt.step()
            sched.step()
    assert RangeTest(a, b, n, mode, flavor="lightning").lrs() == peer


# ---------------------------------------------------------------------------------------------
# whole runs against torch-lr-finder


CASES = {
    # Adam up to 3: the loss falls then climbs, no divergence within 60 updates
    "adam-exp": dict(opt="adam", lr=1e-3, start_lr=1e-5, end_lr=3.0, num_iter=60, step_mode="exp"),
    # SGD with momentum up to 100: diverges, early stop
    "sgd-exp-diverges": dict(opt="sgd", lr=1e-3, start_lr=1e-4, end_lr=100.0, num_iter=80, step_mode="exp"),
    # linear, from the optimizer's own lr, 2 batches per update
    "sgd-linear-accumulate": dict(
        opt="sgd",
        lr=1e-3,
        start_lr=None,
        end_lr=5.0,
        num_iter=40,
        step_mode="linear",
        accumulation_steps=2,
        batch_size=32,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_same_run_as_torch_lr_finder(case):
    c = dict(CASES[case])
    finder = peer_finder(**c)
    model, optimizer = make(c.pop("opt"), c.pop("lr"))
    bs = c.pop("batch_size", 64)
    before = state_of(model, optimizer)
    res = range_test(model, optimizer, LOSS, loader(bs), **c)
    assert_same(state_of(model, optimizer), before)

    assert res.lrs == finder.history["lr"]  # exact
    assert res.losses == finder.history["loss"]  # exact: the same float32 updates, the same float64 smoothing
    assert len(res) == len(finder.history["lr"])  # the same stop point
    if case == "sgd-exp-diverges":
        assert res.stopped_early and res.stop_reason.startswith("diverged")
        assert len(res) < c["num_iter"]
    else:
        assert res.stop_reason is None and len(res) == c["num_iter"]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    with quiet():
        _, peer_lr = finder.plot(ax=ax, suggest_lr=True)
    plt.close(fig)
    assert res.suggestion("steepest") == peer_lr
    assert res.suggestion() == peer_lr  # the flavor's default rule


def test_restores_like_torch_lr_finder_reset():
    """After the run our model equals the peer's after its reset(): both the untouched start."""
    c = dict(CASES["adam-exp"])
    finder = peer_finder(**c)
    finder.reset()
    model, optimizer = make(c.pop("opt"), c.pop("lr"))
    range_test(model, optimizer, LOSS, loader(), **c)
    for p, q in zip(model.parameters(), finder.model.parameters()):
        assert torch.equal(p, q)


# ---------------------------------------------------------------------------------------------
# whole runs against Lightning


def lightning_run(start_lr, end_lr, num_iter, mode, opt="adam", threshold=4.0):
    import pytorch_lightning as pl
    from pytorch_lightning.tuner import Tuner

    for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)

    class Module(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.m = net(0)

        def training_step(self, batch, i):
            x, y = batch
            return LOSS(self.m(x), y)

        def configure_optimizers(self):
            return (
                torch.optim.Adam(self.parameters(), lr=1e-3)
                if opt == "adam"
                else torch.optim.SGD(self.parameters(), lr=1e-3, momentum=0.9)
            )

    import tempfile

    with tempfile.TemporaryDirectory() as d, quiet():
        trainer = pl.Trainer(
            accelerator="cpu",
            devices=1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=d,
        )
        finder = Tuner(trainer).lr_find(
            Module(),
            train_dataloaders=loader(),
            min_lr=start_lr,
            max_lr=end_lr,
            num_training=num_iter,
            mode=mode,
            early_stop_threshold=threshold,
            update_attr=False,
        )
    return finder


@pytest.mark.parametrize("mode,opt,end_lr,n", [("exponential", "adam", 3.0, 50), ("linear", "sgd", 6.0, 40)])
def test_same_run_as_lightning(mode, opt, end_lr, n):
    finder = lightning_run(1e-5, end_lr, n, mode, opt)
    model, optimizer = make(opt, 1e-3)
    before = state_of(model, optimizer)
    res = range_test(
        model, optimizer, LOSS, loader(), start_lr=1e-5, end_lr=end_lr, num_iter=n, step_mode=mode, flavor="lightning"
    )
    assert_same(state_of(model, optimizer), before)
    assert res.lrs == finder.results["lr"]
    assert res.losses == finder.results["loss"]
    assert len(res) == len(finder.results["lr"])
    assert (res.stop_reason is not None) == (len(res) < n)
    if opt == "adam":
        # stops early: Lightning's bias correction makes the first smoothed losses about half the
        # raw ones, so the best loss it compares with is low
        assert res.stop_reason.startswith("diverged") and len(res) < n
    with quiet():
        peer = finder.suggestion()
    assert peer is not None
    assert res.suggestion("steepest-lr") == peer
    assert res.suggestion() == peer


# ---------------------------------------------------------------------------------------------
# restoring


def test_restores_bit_for_bit_after_a_nan_from_the_first_update():
    model, optimizer = make("adam")
    warm(model, optimizer)
    before = state_of(model, optimizer)
    x, y = DATA.tensors
    bad = [(torch.full_like(x[:16], math.nan), y[:16])]
    res = range_test(model, optimizer, LOSS, bad, start_lr=1e-4, num_iter=20)
    assert len(res) == 1 and math.isnan(res.raw_losses[0])
    assert res.stop_reason.startswith("non-finite loss at update 0")
    assert_same(state_of(model, optimizer), before)


def test_restores_bit_for_bit_when_user_code_raises():
    model, optimizer = make("sgd")
    warm(model, optimizer)
    before = state_of(model, optimizer)
    calls = []

    def step(batch):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom in user code")
        x, y = batch
        return LOSS(model(x), y)

    with pytest.raises(RuntimeError, match="boom in user code"):
        range_test(model, optimizer, step=step, data=loader(), start_lr=1e-3, num_iter=20)
    assert_same(state_of(model, optimizer), before)


def test_restores_group_objects_and_mode():
    model, optimizer = make("sgd")
    model.eval()
    group = optimizer.param_groups[0]
    range_test(model, optimizer, LOSS, loader(), start_lr=1e-3, end_lr=1.0, num_iter=5)
    assert optimizer.param_groups[0] is group and group["lr"] == 1e-3
    assert not model.training


@pytest.mark.parametrize("restore_rng", [True, False])
def test_training_continues_as_if_the_test_never_ran(restore_rng):
    """Dropout and a shuffling loader draw from torch's generator: with it restored, the run
    after the range test is bit-identical to a run without it (and without, it is not: the
    comparison can fail)."""

    def train(with_test: bool):
        torch.manual_seed(123)
        model, optimizer = make("adam", dropout=0.3, seed=1)
        dl = loader(32, shuffle=True)
        warm(model, optimizer, 2)
        if with_test:
            range_test(model, optimizer, LOSS, dl, start_lr=1e-5, end_lr=1.0, num_iter=15, restore_rng=restore_rng)
        for k, (x, y) in enumerate(dl):
            optimizer.zero_grad()
            LOSS(model(x), y).backward()
            optimizer.step()
            if k == 9:
                break
        return [p.detach().clone() for p in model.parameters()] + [
            v.clone() for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v)
        ]

    a, b = train(False), train(True)
    same = all(torch.equal(p, q) for p, q in zip(a, b))
    assert same is restore_rng


def test_multiple_groups_sweep_from_their_own_lr_like_torch_lr_finder():
    from torch_lr_finder import LRFinder

    def build():
        m = net(0)
        o = torch.optim.SGD(
            [{"params": m[0].parameters(), "lr": 1e-3}, {"params": m[2].parameters(), "lr": 1e-4}], lr=1e-3
        )
        return m, o

    m1, o1 = build()
    seen = []
    o1.register_step_pre_hook(lambda opt, a, k: seen.append([g["lr"] for g in opt.param_groups]))
    finder = LRFinder(m1, o1, LOSS)
    with quiet():
        finder.range_test(loader(), end_lr=1.0, num_iter=10)
    m2, o2 = build()
    mine = []
    o2.register_step_pre_hook(lambda opt, a, k: mine.append([g["lr"] for g in opt.param_groups]))
    res = range_test(m2, o2, LOSS, loader(), end_lr=1.0, num_iter=10)
    assert mine == seen and res.losses == finder.history["loss"]


def test_one_shot_iterator_that_runs_out():
    model, optimizer = make("sgd")
    res = range_test(model, optimizer, LOSS, iter(list(loader())[:5]), start_lr=1e-4, num_iter=20)
    assert len(res) == 5 and res.stop_reason == "the data ran out after 5 updates"


def test_bad_arguments():
    model, optimizer = make("sgd")
    with pytest.raises(ValueError, match="start_lr .* must be below end_lr"):
        range_test(model, optimizer, LOSS, loader(), start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="num_iter must be >= 2"):
        range_test(model, optimizer, LOSS, loader(), num_iter=1)
    with pytest.raises(ValueError, match="accumulation_steps"):
        range_test(model, optimizer, LOSS, loader(), accumulation_steps=0)
    with pytest.raises(ValueError, match="step_mode"):
        range_test(model, optimizer, LOSS, loader(), step_mode="cosine")
    with pytest.raises(TypeError, match="loss_fn"):
        range_test(model, optimizer, data=loader())
    with pytest.raises(ValueError, match="data yielded no batch"):
        range_test(model, optimizer, LOSS, [])


def test_an_attached_scheduler_keeps_its_place():
    """With a torch scheduler attached (torch-lr-finder refuses one), the groups' lr and
    initial_lr come back and the scheduler continues where it was."""
    model, optimizer = make("sgd", lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    warm(model, optimizer, 3)
    for _ in range(3):
        sched.step()
    before = state_of(model, optimizer)
    sched_state = dict(sched.state_dict())
    range_test(model, optimizer, LOSS, loader(), start_lr=1e-4, end_lr=1.0, num_iter=6)
    assert_same(state_of(model, optimizer), before)
    assert sched.state_dict() == sched_state
    assert optimizer.param_groups[0]["initial_lr"] == 0.1 and optimizer.param_groups[0]["lr"] == 0.1 * 0.5
