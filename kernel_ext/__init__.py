"""The IPython extension behind ``%load_ext graphwright``: ``gw`` in the namespace and the workbench magics."""


def load_ipython_extension(ipython) -> None:
    """Put the graphwright API in the user namespace as ``gw`` and register ``%%graph`` and the ``%gw_*`` magics.

    Examples
    --------
    >>> from IPython.core.interactiveshell import InteractiveShell
    >>> shell = InteractiveShell.instance()
    >>> load_ipython_extension(shell)
    >>> "graph" in shell.magics_manager.magics["cell"], shell.user_ns["gw"].__name__
    (True, 'graphwright')
    """
    import graphwright
    from graphwright.kernel_ext.magics import GraphMagics

    ipython.push({"gw": graphwright})
    ipython.register_magics(GraphMagics)
