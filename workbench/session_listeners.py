"""The change callbacks of a workbench session (:meth:`Session.on_change`), apart from the session itself."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["ChangeListeners"]


class ChangeListeners:
    """Callbacks called after each change of a session's graph; a mixin of :class:`~graphwright.workbench.Session`.

    The class using it sets ``_listeners`` (a list) and ``name`` (shown in warnings and errors).

    Examples
    --------
    >>> class Thing(ChangeListeners):
    ...     name, _listeners = "thing", []
    >>> thing = Thing()
    >>> _ = thing.on_change(lambda t: print("changed", t.name))
    >>> thing._notify()
    changed thing
    """

    name: str
    _listeners: list[Callable[[Any], Any]]

    def _notify(self) -> None:
        """Call every listener; one that raises gives a RuntimeWarning and the others still run."""
        for callback in list(self._listeners):
            try:
                callback(self)
            except Exception as exc:  # noqa: BLE001 - one broken listener must not stop the others
                name = getattr(callback, "__qualname__", repr(callback))
                warnings.warn(f"on_change callback {name} of session {self.name!r} failed: "
                              f"{type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=4)

    def on_change(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Call ``callback(session)`` after every applied substitution (with its resumed steps) and every undo.

        A callback is registered once however often it is passed; one that raises gives a RuntimeWarning and
        the others still run. Returns ``callback`` (so it works as a decorator).

        Examples
        --------
        >>> import graphwright as gw
        >>> x = gw.vector("x")
        >>> from graphwright.workbench import Session
        >>> s = Session(gw.log(1 + x), phases="stabilize")
        >>> @s.on_change
        ... def show(session):
        ...     print("now", len(session.steps), "steps")
        >>> s.substitute(gw.log1p(x), "gw.log(1 + x)", resume=False).ok
        now 2 steps
        True
        >>> s.undo()
        now 1 steps
        >>> s.remove_on_change(show)
        """
        if not callable(callback):
            raise TypeError(f"on_change of session {self.name!r} needs a callable, got {type(callback).__name__}")
        if callback not in self._listeners:
            self._listeners.append(callback)
        return callback

    def remove_on_change(self, callback: Callable[[Any], Any]) -> None:
        """Stop calling ``callback`` on changes (see :meth:`on_change`); ValueError if it is not registered."""
        if callback not in self._listeners:
            raise ValueError(f"{callback!r} is not registered with on_change of session {self.name!r}")
        self._listeners.remove(callback)
