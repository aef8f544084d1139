"""Subscriber simulator: a seeded generative model of telecom behaviour with known ground truth."""

from src.data.simulate.runner import simulate

__all__ = ["simulate"]
