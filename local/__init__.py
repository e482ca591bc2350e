"""The local stack: the whole service on a developer machine, with no AWS account, internet or Docker.

``python -m local`` runs it until Ctrl-C; :class:`LocalStack` starts it in-process for tests and
benchmarks; ``python -m local.invoke`` runs one function with one event.
"""

from local.stack import LocalStack

__all__ = ["LocalStack"]
