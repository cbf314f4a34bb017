"""relunet: feed-forward ReLU networks and their Jacobians in pure NumPy.

The companion package of the book *ReLU networks and their Jacobians*. Every
function follows the book's conventions (see the notation page): weights
``W`` of shape (n_out, n_in), batches as rows, Jacobians of shape output
shape + input shape, and ReLU'(0) = 0 unless ``at_zero`` says otherwise.
"""

from relunet.activations import relu, relu_derivative
from relunet.finite_differences import default_step, finite_difference_jacobian
from relunet.layers import ACTIVATIONS, Dense
from relunet.network import forward, jacobian, preactivations

__all__ = [
    "ACTIVATIONS",
    "Dense",
    "default_step",
    "finite_difference_jacobian",
    "forward",
    "jacobian",
    "preactivations",
    "relu",
    "relu_derivative",
]

__version__ = "0.1.0"
