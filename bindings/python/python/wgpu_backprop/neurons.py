"""Neurons, layers with parameters, as the lab's ``nn_from_scratch.neurons`` has them: ``Linear``,
and for images and deeper nets ``Conv2d`` and ``LayerNorm``. Each has ``forward``,
``backward(dL_dy, use_jacobian=False)``, ``jacobian``, and its ``parameters`` and ``grads``."""

from ._core import Layer, Linear


def Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, seed=None):
    """A 2-D convolution on NCHW images ``(N, in_channels, H, W)``: weight ``(out_channels,
    in_channels, kernel_size, kernel_size)``, bias ``(out_channels,)``, output ``(N,
    out_channels, Ho, Wo)`` with Ho = (H + 2·padding − kernel_size) // stride + 1."""
    return Layer(f"conv2d({int(in_channels)},{int(out_channels)},{int(kernel_size)},"
                 f"{int(stride)},{int(padding)})", seed)


def LayerNorm(features):
    """Normalisation over the last dimension (``features`` of them) with learnable γ (ones)
    and β (zeros), ε = 1e-5."""
    return Layer(f"layernorm({int(features)})")


__all__ = ["Conv2d", "LayerNorm", "Linear"]
