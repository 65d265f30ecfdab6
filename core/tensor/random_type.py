"""RNGType: the type of a random generator's state, the first graph value that is not a tensor.

Randomness is functional (ARCHITECTURE section 7): a draw will take a generator and return the next one with
its value, so a generator is an ordinary graph value of type :class:`RNGType`. Each backend carries its own
native generator (see :attr:`RNGType.native_values`); today only the NumPy backend carries them, and the
other backends refuse a graph holding one, naming the type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from graphwright.graph.basic import InputError, Type, Variable

__all__ = ["RNGType", "rng_var", "RNG_BACKENDS_LATER"]

# What each other backend will carry once it supports generators (not yet: they refuse RNG values today).
RNG_BACKENDS_LATER = {
    "numba": "numpy.random.Generator (Numba compiles NumPy generators in nopython mode)",
    "jax": "a jax.random key array (a new key per draw, split from the old one)",
    "torch": "torch.Generator",
}


@dataclass(frozen=True, slots=True)
class RNGType(Type):
    """Type of a random generator: on the NumPy backend its values are ``numpy.random.Generator``.

    All generators have the same type (the bit generator and its state are the value's business, not the
    type's). A compiled function accepts only a Generator for such an input (a legacy ``RandomState`` or an
    int seed is refused: pass ``np.random.default_rng(seed)``), and returns copies of generators it could
    otherwise share with the caller, so the caller's generator never advances behind its back.

    Examples
    --------
    >>> import numpy as np
    >>> t = RNGType()
    >>> t.short(), t == RNGType(), t.is_tensor
    ('rng', True, False)
    >>> g = np.random.default_rng(0)
    >>> t.filter(g) is g, t.values_equal(g, t.copy_value(g))
    (True, True)
    >>> t.filter(42, name="input 0 (rng)")
    Traceback (most recent call last):
    ...
    graphwright.graph.basic.InputError: input 0 (rng) expects a random generator (numpy.random.Generator), \
got int; make one with np.random.default_rng(seed)
    """

    native_values: ClassVar[dict[str, str]] = {"numpy": "numpy.random.Generator"}

    def __repr__(self) -> str:
        return "RNGType()"

    def short(self) -> str:
        """``rng``: how printers and error messages show the type."""
        return "rng"

    def filter(self, value: Any, *, name: str = "value", op: str | None = None) -> np.random.Generator:
        """``value`` itself when it is a ``numpy.random.Generator``, else an InputError naming ``name``."""
        if isinstance(value, np.random.Generator):
            return value
        raise InputError(f"{self._where(name, op)} expects a random generator (numpy.random.Generator), got "
                         f"{type(value).__name__}; make one with np.random.default_rng(seed)")

    def values_equal(self, a: Any, b: Any) -> bool:
        """Whether two generators are in the same state (the same bit generator class and state)."""
        return (type(a.bit_generator) is type(b.bit_generator)
                and a.bit_generator.state == b.bit_generator.state)

    def sample_value(self, rng: np.random.Generator) -> np.random.Generator:
        """A generator seeded from ``rng``: a random test value (rewrite checks)."""
        return np.random.default_rng(rng.integers(2 ** 63))


def rng_var(name: str | None = None) -> Variable:
    """A graph input holding a random generator (type :class:`RNGType`).

    Examples
    --------
    >>> import numpy as np, graphwright as gw
    >>> rng = gw.rng_var("rng")
    >>> rng.type, rng.name
    (RNGType(), 'rng')
    >>> g = np.random.default_rng(0)
    >>> gw.function([rng], rng, backend="numpy")(g).random() == np.random.default_rng(0).random()
    True
    """
    return RNGType().make_variable(name=name)
