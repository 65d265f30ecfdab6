"""``Function.memory_plan``: where each step of a compiled function puts its output and what it frees.

The generated function (``Function.source``) computes one node per line into variables ``v<step>_<output>``;
a value is released (``del``) right after its last use. An ``InPlace`` node (see
:mod:`graphwright.graph.destroy`) may write its output into the buffer of an input that is dead after it: the
plan lists those reuses, and says when the backend computes the op into a new buffer anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MemoryPlan", "PlanStep"]


@dataclass(frozen=True)
class PlanStep:
    """One line of the generated function.

    Attributes
    ----------
    step : the line's position (``v<step>_<k>`` are its outputs).
    op : the op's label.
    outputs : the generated names of its outputs.
    reuses : for each output written into an input's buffer, ``(output name, input name)``.
    allocates : whether the backend computes the op into a new buffer although it may reuse one.
    frees : the values released after this line (their last use).
    """

    step: int
    op: str
    outputs: tuple[str, ...]
    reuses: tuple[tuple[str, str], ...] = ()
    allocates: bool = False
    frees: tuple[str, ...] = ()


@dataclass
class MemoryPlan:
    """The memory plan of a compiled function: one :class:`PlanStep` per node, in execution order.

    Examples
    --------
    >>> import graphwright as gw
    >>> x = gw.vector("x")
    >>> f = gw.function([x], gw.exp(gw.cumsum(x)))
    >>> f.memory_plan.in_place
    [('v1_0', 'v0_0')]
    >>> print(f.memory_plan)
    step  op                 outputs  writes into  frees
       0  cumsum{axis=None}  v0_0     (new)
       1  exp[inplace i0]    v1_0     v0_0         v0_0
    1 of 2 outputs written into a dead input's buffer
    """

    steps: list[PlanStep]
    dropped: list[str] = field(default_factory=list)  # in-place permissions the compiler refused, and why

    @property
    def in_place(self) -> list[tuple[str, str]]:
        """``(output, input buffer)`` pairs the backend writes in place."""
        return [pair for s in self.steps if not s.allocates for pair in s.reuses]

    def __str__(self) -> str:
        rows = [("step", "op", "outputs", "writes into", "frees")]
        for s in self.steps:
            into = ", ".join(i for _, i in s.reuses) if s.reuses else "(new)"
            if s.reuses and s.allocates:
                into = f"(new; may reuse {into})"
            rows.append((str(s.step), s.op, ", ".join(s.outputs), into, ", ".join(s.frees)))
        widths = [max(len(r[k]) for r in rows) for k in range(5)]
        lines = [f"{r[0]:>{widths[0]}}  " + "  ".join(f"{c:<{w}}" for c, w in zip(r[1:], widths[1:], strict=True))
                 for r in rows]
        lines = [ln.rstrip() for ln in lines]
        total = sum(len(s.outputs) for s in self.steps)
        lines.append(f"{len(self.in_place)} of {total} outputs written into a dead input's buffer")
        lines += [f"in-place permission dropped: {d}" for d in self.dropped]
        return "\n".join(lines)

    __repr__ = __str__
