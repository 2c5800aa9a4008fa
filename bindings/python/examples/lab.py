"""The lab "Vector and Matrix Backpropagation" as a script, run on the GPU.

The notebook's cells, unchanged except for the two imports, print what the lab printed: the
SoftMax and ReLU numbers exactly as the lab's (to float32), the Linear ones for this run's
random inputs and weights, with the Jacobian path giving the same gradients.

    python bindings/python/examples/lab.py
"""

import numpy as np

import wgpu_backprop
from wgpu_backprop.neurons import Linear
from wgpu_backprop.nodes import ReLU, SoftMax

np.set_printoptions(precision=8)
print("running on", wgpu_backprop.device()["name"], "\n")

print("## Part 1. Vectorized softmax function")
sm = SoftMax(5)
x_input = np.array([0, 1, 2, 3, 4])
dL_dy = np.array([1, 2, 3, 2, 1])
y_value = sm.forward(x_input)
dL_dx = sm.backward(dL_dy)
print((y_value, dL_dx), "\n")

print("## Part 2. ReLU")
relu = ReLU(5)
x_input = np.array([0, -1, 2, -1, 4])
dL_dy = np.array([1, 2, 3, 2, 1])
y_value = relu.forward(x_input)
dL_dx = relu.backward(dL_dy)
print((y_value, dL_dx))

relu = ReLU((2, 5))
x_input = np.array([[0, -1, 2, -1, 4], [0, -1, 2, -1, 4]])
dL_dy = np.array([[1, 2, 3, 2, 1], [1, 2, 3, 2, 1]])
y_value = relu.forward(x_input)
dL_dx = relu.backward(dL_dy)
print((y_value, dL_dx), "\n")

print("## Part 3. Linear layer")
for input_dim, output_dim in [((3, 2), (3, 5)), (3, 5)]:
    linear = Linear(input_dim, output_dim)
    x_input = np.random.rand(*np.atleast_1d(input_dim))
    dL_dy = np.random.rand(*np.atleast_1d(output_dim))

    y_value = linear.forward(x_input)
    dL_dx = linear.backward(dL_dy)
    dL_dw = linear._W_pd
    print("Forward output:")
    print(y_value)
    print("Jacobian dL/dx:")
    print(dL_dx)
    print("Jacobian dL/dw:")
    print(dL_dw)

    dL_dx_jac = linear.backward(dL_dy, use_jacobian=True)
    dL_dw_jac = linear._W_pd
    print("\nvia the Jacobians:")
    print("Jacobian dL/dx:")
    print(dL_dx_jac)
    print("Jacobian dL/dw")
    print(dL_dw_jac)
    print(
        "max difference from the fused path:",
        float(np.max(np.abs(dL_dx_jac - dL_dx))),
        float(np.max(np.abs(dL_dw_jac - dL_dw))),
        "\n",
    )
