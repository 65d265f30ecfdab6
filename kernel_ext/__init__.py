"""The IPython extension behind ``%load_ext graphwright`` (the magics come with the workbench issue)."""


def load_ipython_extension(ipython) -> None:
    """Put the graphwright API in the user namespace as ``gw``."""
    import graphwright

    ipython.push({"gw": graphwright})
