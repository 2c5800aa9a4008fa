"""Neurons, layers with parameters, as the lab's ``nn_from_scratch.neurons`` has them."""

from ._core import Linear

__all__ = ["Linear"]
