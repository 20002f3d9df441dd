"""Errors of selection: a bad selector or filter. The engines collect their messages as validation errors."""

from __future__ import annotations


class SelectorError(ValueError):
    """A label selector, namespace pattern or resource filter that cannot be used; says what to fix."""
