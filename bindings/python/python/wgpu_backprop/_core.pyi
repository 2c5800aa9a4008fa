"""Type stubs for the native module; the classes are re-exported by ``nodes``, ``neurons``
and the package itself."""

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

__version__: str

Shape = Union[int, Tuple[int], Tuple[int, int]]
F32 = npt.NDArray[np.float32]

def device() -> Dict[str, str]:
    """The adapter every layer runs on: name, backend, device_type, driver, driver_info."""

def selftest(quick: bool = False) -> Dict[str, Any]:
    """Every kernel variant and automatic choice against an f64 reference on this adapter:
    ``passed``, ``adapter``, ``seconds``, ``rows``, ``auto`` and ``table`` (text to attach to
    a bug report). ``quick``: a subset, about a minute on a CPU device."""

class _Node:
    def forward(self, x: npt.ArrayLike) -> F32:
        """y = f(x) as float32, shaped like x. Remembers what ``backward`` needs."""
    def backward(self, dL_dy: npt.ArrayLike, use_jacobian: bool = False) -> F32:
        """dL/dx from dL/dy; ``use_jacobian=True`` goes through the explicit Jacobian."""
    def jacobian(self) -> F32:
        """dy/dx of the last forward, (output elements, input elements)."""

class SoftMax(_Node):
    """SoftMax along the last axis: a vector as a whole, a matrix row by row.

    ``shape``: an int (a vector, or a batch of such rows), a tuple (exactly that shape), or
    None (any vector or matrix).
    """
    def __init__(self, shape: Optional[Shape] = None) -> None: ...

class ReLU(_Node):
    """ReLU element-wise, y = max(x, 0), with ReLU'(0) = 0. ``shape`` as for SoftMax."""
    def __init__(self, shape: Optional[Shape] = None) -> None: ...

class Layer(_Node):
    """A layer of the Rust registry by its model-string form (``"conv2d(1,16,3,1,1)"``,
    ``"maxpool2d(2,2)"``, ``"flatten"``, ``"dropout(0.5,0)"``, ``"layernorm(64)"``): what
    ``neurons.Conv2d``, ``neurons.LayerNorm``, ``nodes.MaxPool2d``, ``nodes.AvgPool2d``,
    ``nodes.Flatten`` and ``nodes.Dropout`` return. Inputs of rank 1 to 4 (images NCHW)."""
    def __init__(self, config: str, seed: Optional[int] = None) -> None: ...
    @property
    def parameters(self) -> Dict[str, F32]:
        """The parameters by name (``weight``, ``bias``); empty for nodes."""
    @property
    def grads(self) -> Dict[str, Optional[F32]]:
        """dL/d(parameter) of the last backward by name (None before any)."""
    @property
    def config(self) -> str: ...
    def train(self, mode: bool) -> None:
        """Training (True) or evaluation mode: Dropout is the identity in evaluation."""

class Linear(_Node):
    """Y = X·weight + bias. Dims are ints (vectors or batches) or (batch, n) tuples, as in the
    lab; ``W`` is the lab's (n_in + 1, n_out) matrix with the bias as its first row."""
    def __init__(
        self, input_dim: Shape, output_dim: Shape, seed: Optional[int] = None
    ) -> None: ...
    @property
    def in_features(self) -> int: ...
    @property
    def out_features(self) -> int: ...
    @property
    def W(self) -> F32:
        """[bias; weight], (n_in + 1, n_out). Assign an array of that shape to load weights."""
    @W.setter
    def W(self, value: npt.ArrayLike) -> None: ...
    @property
    def _W_pd(self) -> Optional[F32]:
        """dL/dW of the last backward in W's layout, or None before any backward."""
    @property
    def weight(self) -> F32:
        """(n_in, n_out)."""
    @weight.setter
    def weight(self, value: npt.ArrayLike) -> None: ...
    @property
    def bias(self) -> F32:
        """(n_out,)."""
    @bias.setter
    def bias(self, value: npt.ArrayLike) -> None: ...
    @property
    def weight_grad(self) -> Optional[F32]: ...
    @property
    def bias_grad(self) -> Optional[F32]: ...

Layer = Union[SoftMax, ReLU, Linear]

class Sequential:
    """Layers applied in order and trained as one; the model shares the layer objects."""
    @overload
    def __init__(self, layers: Sequence[Layer]) -> None: ...
    @overload
    def __init__(self, *layers: Layer) -> None: ...
    @property
    def layers(self) -> List[Layer]: ...
    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> Layer: ...
    def forward(self, x: npt.ArrayLike) -> F32: ...
    def backward(self, dL_dy: npt.ArrayLike, use_jacobian: bool = False) -> F32: ...
    @overload
    def predict(self, x: Sequence[Sequence[float]]) -> npt.NDArray[np.int64]: ...
    @overload
    def predict(self, x: npt.ArrayLike) -> Any: ...
    def evaluate(self, x: npt.ArrayLike, y: npt.ArrayLike) -> float:
        """Fraction of rows whose predicted class is their label."""
    def fit(
        self,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        epochs: int = 10,
        batch: int = 32,
        optimizer: str = "adam",
        lr: Optional[float] = None,
        momentum: float = 0.9,
        seed: int = 0,
        validation: Optional[Tuple[npt.ArrayLike, npt.ArrayLike]] = None,
        verbose: bool = False,
    ) -> Dict[str, List[float]]:
        """Trains as a classifier; returns per-epoch "loss", "accuracy" and "seconds"."""
    def save(self, path: Union[str, os.PathLike[str]]) -> None: ...
    @staticmethod
    def load(path: Union[str, os.PathLike[str]]) -> "Sequential": ...

def mlp(sizes: Sequence[int], seed: Optional[int] = None, activation: str = "relu") -> Sequential:
    """Linear layers of the given sizes with ``activation`` between them: [64, 128, 10]."""

def from_config(config: str, seed: Optional[int] = None) -> Sequential:
    """A model from a model string: ``"linear(64,128),gelu,linear(128,10)"``."""

class Activation(_Node):
    """An element-wise activation by name (``"sigmoid"``, ``"leaky_relu"``, …)."""
    def __init__(self, name: str, shape: Optional[Shape] = None, param: Optional[float] = None) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def param(self) -> Optional[float]: ...

def activations() -> List[Tuple[str, str, Optional[str], Optional[float]]]:
    """Every activation but ReLU: (name, class name, parameter name, default)."""

def load(path: Union[str, os.PathLike[str]]) -> Sequential:
    """Reads a model written by Sequential.save or the Rust demo's ``train --save``."""

def load_digits() -> Tuple[F32, npt.NDArray[np.int64]]:
    """The embedded digits set: x float32 (1797, 64) in [0, 1], y int64 (1797,)."""

# The graph: tensors that stay on the GPU and record their backward.

Ints = Union[Sequence[int], npt.NDArray[np.integer]]

class Tensor:
    """A float32 tensor on the GPU that may take part in a graph (``requires_grad``)."""
    @property
    def shape(self) -> Tuple[int, ...]: ...
    @property
    def requires_grad(self) -> bool: ...
    @property
    def grad(self) -> Optional[F32]:
        """dL/d(this) summed by the backward passes since ``zero_grad()``; None before any."""
    @property
    def T(self) -> "Tensor":
        """The last two dimensions swapped."""
    def numpy(self) -> F32: ...
    def item(self) -> float: ...
    def backward(self) -> None:
        """Backpropagates from this one-element loss."""
    def zero_grad(self) -> None: ...
    def reshape(self, *shape: Any) -> "Tensor": ...
    def permute(self, *dims: Any) -> "Tensor": ...
    def sum(self) -> "Tensor": ...
    def mean(self) -> "Tensor": ...
    def activation(self, name: str) -> "Tensor": ...
    def relu(self) -> "Tensor": ...
    def gelu(self) -> "Tensor": ...
    def tanh(self) -> "Tensor": ...
    def softmax(self) -> "Tensor": ...
    def __add__(self, other: Union["Tensor", float]) -> "Tensor": ...
    def __radd__(self, other: Union["Tensor", float]) -> "Tensor": ...
    def __sub__(self, other: Union["Tensor", float]) -> "Tensor": ...
    def __rsub__(self, other: Union["Tensor", float]) -> "Tensor": ...
    def __mul__(self, other: Union["Tensor", float]) -> "Tensor": ...
    def __rmul__(self, other: Union["Tensor", float]) -> "Tensor": ...
    def __truediv__(self, other: float) -> "Tensor": ...
    def __neg__(self) -> "Tensor": ...
    def __matmul__(self, other: "Tensor") -> "Tensor": ...

def tensor(data: npt.ArrayLike, requires_grad: bool = False) -> Tensor: ...
def linear(x: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor: ...
def layer_norm(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor: ...
def embedding(table: Tensor, ids: Ints) -> Tensor: ...
def cross_entropy(logits: Tensor, targets: Ints) -> Tensor: ...
def attention(q: Tensor, k: Tensor, v: Tensor, causal: bool = True) -> Tensor: ...
def dropout(x: Tensor, p: float, seed: int, step: int) -> Tensor: ...
def shakespeare() -> str:
    """The text of tiny Shakespeare (embedded in the library)."""

class no_grad:
    """``with no_grad():`` records nothing."""
    def __enter__(self) -> "no_grad": ...
    def __exit__(self, *args: Any) -> bool: ...

class AdamW:
    lr: float
    def __init__(
        self,
        params: Dict[str, Tensor],
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        betas: Tuple[float, float] = (0.9, 0.99),
        clip: Optional[float] = 1.0,
    ) -> None: ...
    def step(self, lr: Optional[float] = None) -> None: ...
    def zero_grad(self) -> None: ...
