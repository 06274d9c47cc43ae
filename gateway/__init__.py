"""Switchyard gateway: one data model served over GraphQL and REST."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("switchyard")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
