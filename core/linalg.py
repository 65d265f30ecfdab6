"""``gw.linalg``: linear algebra (the products today; solves, decompositions and the matrix facts they use
arrive with the linear-algebra issue). Every name is also ``gw.<name>``, as ``numpy.linalg.matmul`` is
``numpy.matmul``.

Examples
--------
>>> import graphwright as gw
>>> gw.linalg.matmul is gw.matmul
True
"""

from graphwright.tensor.linalg import dot, matmul, outer, tensordot

__all__ = ["dot", "matmul", "outer", "tensordot"]
