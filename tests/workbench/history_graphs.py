"""Graphs whose rewrite histories the workbench tests walk: many steps per pass, rebuilt and created nodes."""

import graphwright as gw


def softplus_chain(terms: int) -> list:
    """A chain of ``log(1 + exp(x * i))`` terms, each kept apart by a ``* 1`` that canonicalize removes."""
    x = gw.vector("x")
    acc = gw.log(1 + gw.exp(x * 1.5))
    for i in range(2, terms + 1):
        acc = acc * 1 + gw.log(1 + gw.exp(x * float(i)))
    return [acc]


def gradient_of_cost(terms: int) -> list:
    """A cost of ``terms`` summed terms over two vectors, and its gradient with respect to both."""
    x, y = gw.vector("x"), gw.vector("y")
    cost = gw.log(1 + gw.exp(x * y)).sum()
    for i in range(2, terms + 1):
        cost = cost + (gw.tanh(x * float(i)) * gw.exp(y)).sum() * 1
    return [cost, *gw.grad(cost, [x, y])]
