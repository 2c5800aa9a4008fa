"""Nodes, layers without parameters, as the lab's ``nn_from_scratch.nodes`` has them, and every
element-wise activation of the Rust crate's table: ``Sigmoid(5)``, ``Tanh()``, ``GELU()``,
``GELUTanh()``, ``SiLU()``, ``LeakyReLU(5, slope=0.2)``, ``ELU(alpha=1.0)``, ``Softplus()``.
Each takes ``shape`` as ``ReLU`` does and has ``forward``, ``backward(dL_dy,
use_jacobian=False)`` and ``jacobian``; the classes are made from the table, so a new
activation in Rust is a new class here."""

from ._core import Activation, Layer, ReLU, SoftMax, activations as _activations


def MaxPool2d(kernel_size, stride=None):
    """Max pooling of NCHW images over ``kernel_size``² windows every ``stride`` (default:
    ``kernel_size``), no padding; the gradient goes to each window's first maximum, and a window
    holding NaN gives NaN."""
    stride = kernel_size if stride is None else stride
    return Layer(f"maxpool2d({int(kernel_size)},{int(stride)})")


def AvgPool2d(kernel_size, stride=None):
    """Average pooling of NCHW images, as ``MaxPool2d``."""
    stride = kernel_size if stride is None else stride
    return Layer(f"avgpool2d({int(kernel_size)},{int(stride)})")


def Flatten():
    """``(N, C, H, W)`` → ``(N, C·H·W)``; the gradient reshaped back."""
    return Layer("flatten")


def Dropout(p, seed=0):
    """Zeroes each element with probability ``p`` in training (the rest scaled by 1/(1 − p));
    the identity in evaluation (``layer.train(False)``; ``Sequential.predict`` and
    ``evaluate`` always evaluate, ``fit`` trains)."""
    if not 0.0 <= float(p) < 1.0:
        raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
    return Layer(f"dropout({float(p)},{int(seed)})")


def _make(name, layer, param, default):
    if param is None:

        def make(shape=None):
            return Activation(name, shape)

        make.__doc__ = f"{layer}(shape=None): the ``{name}`` activation."
    else:

        def make(shape=None, **kwargs):
            unknown = set(kwargs) - {param}
            if unknown:
                raise TypeError(f"{layer}: unexpected argument(s) {sorted(unknown)}; "
                                f"it takes shape and {param}")
            return Activation(name, shape, kwargs.get(param, default))

        make.__doc__ = (f"{layer}(shape=None, {param}={default}): the ``{name}`` activation "
                        f"with its {param}.")
    make.__name__ = make.__qualname__ = layer
    return make


__all__ = ["Activation", "AvgPool2d", "Dropout", "Flatten", "MaxPool2d", "ReLU", "SoftMax"]
for _name, _layer, _param, _default in _activations():
    globals()[_layer] = _make(_name, _layer, _param, _default)
    __all__.append(_layer)
