"""Nodes, layers without parameters, as the lab's ``nn_from_scratch.nodes`` has them."""

from ._core import ReLU, SoftMax

__all__ = ["ReLU", "SoftMax"]
