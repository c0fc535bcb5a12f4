"""autoformation: a self-paced data-science training platform built on JupyterHub."""

__version__ = "0.1.0"
