"""The schedule kinds, by family: each module declares its kinds once (parameters, formula, kernel).

    decays.py        peak to floor: constant, cosine, linear, polynomial, step, multistep,
                     exponential, inverse_sqrt, inverse_time, tanh, one_cycle, wsd
    cycles.py        cosine_restarts, cyclic
    compose.py       sequence, warmup, hold, scale, clip, per_step, user functions
    algebra.py       shift, sum, product, ramp, piecewise, dampening
    presets.py       warmup_cosine
    paddle_compat.py polynomial_cycle (Paddle's PolynomialDecay(cycle=True))

Everything here is also importable from :mod:`lrkit`.
"""
