"""relunet: feed-forward ReLU networks, their Jacobians and Hessians, in pure NumPy.

The companion package of the book *ReLU networks and their Jacobians*. Every
function follows the book's conventions (see the notation page): weights
``W`` of shape (n_out, n_in), batches as rows, Jacobians of shape output
shape + input shape, and ReLU'(0) = 0 unless ``at_zero`` says otherwise.
"""

import numpy as _np

# Submodules reached as relunet.<name> (chapters 8 to 11): NumPy only, cheap.
from relunet import hedging, montecarlo, regression
from relunet.accumulation import (
    MODES,
    best_bracketing,
    choose_mode,
    jacobian,
    jacobian_cost,
)
from relunet.activations import (
    relu,
    relu_derivative,
    softplus,
    softplus_derivative,
    softplus_second_derivative,
)
from relunet.finite_differences import default_step, finite_difference_jacobian
from relunet.init import he_normal
from relunet.layers import ACTIVATIONS, Dense
from relunet.network import activation_pattern, forward, preactivations
from relunet.products import jvp, vjp
from relunet.recorded import recorded_benchmark, recorded_experiments
from relunet.regions import (
    breakpoints_on_segment,
    grid_regions,
    hyperplane_region_count,
    label_patterns,
    montufar_lower_bound,
    one_layer_region_count,
    sawtooth_layers,
    serra_upper_bound,
)
from relunet.second_order import (
    HESSIAN_MODES,
    HVP_MODES,
    choose_hessian_mode,
    hessian,
    hessian_cost,
    hvp,
    hvp_cost,
)

# glibc gives an allocation above its mmap threshold (128 KiB at start) pages of
# its own and returns them on free, so that the next array of that size faults
# its pages in again; a (256, 64) float64 array is 128 KiB plus one page. Once
# a larger block has been freed, glibc raises the threshold to that block's
# size for the rest of the process (mallopt(3), "M_MMAP_THRESHOLD"): one 4 MiB
# block, never touched, does it. Measured: rn.hvp on 8-64-64-1 at batch 256,
# 975 us before, 634 us after (fastest of 300 calls, one thread).
_np.empty(1 << 19)

__all__ = [
    "ACTIVATIONS",
    "HESSIAN_MODES",
    "HVP_MODES",
    "MODES",
    "Dense",
    "activation_pattern",
    "best_bracketing",
    "choose_hessian_mode",
    "breakpoints_on_segment",
    "choose_mode",
    "default_step",
    "finite_difference_jacobian",
    "forward",
    "grid_regions",
    "he_normal",
    "hedging",
    "hessian",
    "hessian_cost",
    "hvp",
    "hvp_cost",
    "hyperplane_region_count",
    "jacobian",
    "jacobian_cost",
    "jvp",
    "label_patterns",
    "montecarlo",
    "montufar_lower_bound",
    "one_layer_region_count",
    "preactivations",
    "recorded_benchmark",
    "recorded_experiments",
    "regression",
    "relu",
    "relu_derivative",
    "sawtooth_layers",
    "serra_upper_bound",
    "softplus",
    "softplus_derivative",
    "softplus_second_derivative",
    "vjp",
]

__version__ = "0.1.0"
