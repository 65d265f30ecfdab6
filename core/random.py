"""``gw.random``: random variables (a later issue fills it). A draw will be a node with inputs
``(rng, size, *params)`` and outputs ``(next_rng, value)``; ``gw.random.normal(...)`` without an rng will make
a fresh default generator per call, so two calls are two draws; draws are never constant-folded, and each
backend uses its native generator (same distributions, different streams). Nothing is defined yet.

Examples
--------
>>> import graphwright as gw
>>> gw.random.__all__
[]
"""

__all__: list[str] = []
