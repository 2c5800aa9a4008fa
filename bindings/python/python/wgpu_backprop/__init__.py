"""wgpu_backprop: the lab's SoftMax, ReLU and Linear with forward and backward on the GPU.

Every forward and backward runs as a WGSL compute shader through the Rust crate
``wgpu-backprop`` (Vulkan, Metal, DX12, or Mesa's software Vulkan on a CPU-only machine).
Arrays go in as any numeric numpy array-like and come back as float32 arrays.

The lab's imports become::

    from wgpu_backprop.nodes import SoftMax, ReLU
    from wgpu_backprop.neurons import Linear

and the training stack is ``Sequential``, ``mlp``, ``load`` and ``load_digits`` here.

The graph: ``tensor(data, requires_grad=True)`` makes a ``Tensor`` that stays on the GPU; its
ops (``+ - * @``, ``reshape``, ``permute``, ``sum``, ``gelu``, … and ``linear``,
``layer_norm``, ``embedding``, ``cross_entropy``, ``attention``, ``dropout``) record their
backward, ``loss.backward()`` fills ``.grad``, ``AdamW`` updates a dict of named tensors and
``with no_grad():`` records nothing.
"""

from . import neurons, nodes
from ._core import (
    AdamW,
    Layer,
    Tensor,
    attention,
    cross_entropy,
    dropout,
    embedding,
    layer_norm,
    linear,
    no_grad,
    shakespeare,
    tensor,
    Linear,
    ReLU,
    Sequential,
    SoftMax,
    __version__,
    device,
    from_config,
    load,
    load_digits,
    mlp,
    selftest,
)

__all__ = [
    "AdamW",
    "Layer",
    "Tensor",
    "attention",
    "cross_entropy",
    "dropout",
    "embedding",
    "layer_norm",
    "linear",
    "no_grad",
    "shakespeare",
    "tensor",
    "Linear",
    "ReLU",
    "Sequential",
    "SoftMax",
    "__version__",
    "device",
    "from_config",
    "load",
    "load_digits",
    "mlp",
    "neurons",
    "nodes",
    "selftest",
]
