"""Happydesk: an open-source customer-support help desk."""

__version__ = "0.1.0"
