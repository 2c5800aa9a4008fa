"""Nodes, layers without parameters, as the lab's ``nn_from_scratch.nodes`` has them, and every
element-wise activation of the Rust crate's table: ``Sigmoid(5)``, ``Tanh()``, ``GELU()``,
``GELUTanh()``, ``SiLU()``, ``LeakyReLU(5, slope=0.2)``, ``ELU(alpha=1.0)``, ``Softplus()``.
Each takes ``shape`` as ``ReLU`` does and has ``forward``, ``backward(dL_dy,
use_jacobian=False)`` and ``jacobian``; the classes are made from the table, so a new
activation in Rust is a new class here."""

from ._core import Activation, ReLU, SoftMax, activations as _activations


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


__all__ = ["Activation", "ReLU", "SoftMax"]
for _name, _layer, _param, _default in _activations():
    globals()[_layer] = _make(_name, _layer, _param, _default)
    __all__.append(_layer)
