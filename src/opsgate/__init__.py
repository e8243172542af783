"""opsgate: guarded ChatOps for AWS teams."""

__version__ = "0.1.0"
