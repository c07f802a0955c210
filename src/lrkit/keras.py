"""Keras 3: conversion of Keras' schedules (``from_keras``).

Importing this module imports nothing from Keras; :func:`from_keras` reads a Keras
schedule's settings (its ``get_config()``) and returns a native lrkit schedule.
"""

from __future__ import annotations

from .convert.keras import from_keras

__all__ = ["from_keras"]
