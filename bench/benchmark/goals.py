"""The Jacobian cases' figures (ratios of fastest samples) and goals."""

from __future__ import annotations

from .measure import STATISTIC
from .peers import PEERS


def figures(case: dict) -> dict:
    """The ratios the goals are stated in (speed-ups: above 1 is faster).

    Each candidate's time is its fastest sample (:data:`STATISTIC`).
    """
    t = {name: v[STATISTIC] for name, v in case["timings"].items()}
    ours = t["relunet"] if "relunet" in t else t[f"relunet_{case['mode']}"]
    best_peer = min(PEERS, key=lambda p: t[p])
    out = {
        "relunet_s": ours,
        "best_peer": best_peer,
        "best_peer_s": t[best_peer],
        "speed_up_over_best_peer": t[best_peer] / ours,
        "time_over_rate_model": ours / case["rate_model_s"],
    }
    out.update({f"speed_up_over_{p}": t[p] / ours for p in PEERS})
    if "write_reference" in t:
        out["time_over_write_reference"] = ours / t["write_reference"]
    else:
        out["time_over_unmasked_chain"] = ours / t["unmasked_chain"]
        pure = min(t["relunet_forward"], t["relunet_reverse"])
        out["auto_over_better_pure_order"] = t["relunet_auto"] / pure
        if "relunet_optimal" in t:
            out["speed_up_of_optimal_over_better_pure_order"] = (
                pure / t["relunet_optimal"]
            )
    return out


#: (case name prefix, figure, comparison, bound): the performance goals.
GOALS = [
    ("one layer, tiny", "speed_up_over_best_peer", ">=", 0.5),
    ("one layer, mid", "speed_up_over_best_peer", ">=", 1.0),
    ("one layer, largest", "speed_up_over_best_peer", ">=", 3.0),
    ("one layer, mid", "time_over_write_reference", "<=", 3.0),
    ("one layer, largest", "time_over_write_reference", "<=", 1.5),
    ("deep, 1 output", "speed_up_over_best_peer", ">=", 1.0),
    ("deep, 64 outputs", "speed_up_over_best_peer", ">=", 1.0),
    ("tall", "speed_up_over_best_peer", ">=", 1.0),
    ("deep, 1 output", "time_over_unmasked_chain", "<=", 1.3),
    ("deep, 64 outputs", "time_over_unmasked_chain", "<=", 1.3),
    ("tall", "time_over_unmasked_chain", "<=", 1.3),
    ("hourglass", "speed_up_of_optimal_over_better_pure_order", ">=", 1.0),
]


def goal_rows(results: dict) -> list[dict]:
    """Goal rows of the Jacobian cases: each goal on the cases its prefix names."""
    return [
        goal_row(case, figure, op, bound)
        for prefix, figure, op, bound in GOALS
        for case in results["cases"]
        if case["name"].startswith(prefix)
    ]


def every_case(cases: list[dict], goals: list[tuple]) -> list[dict]:
    """Goal rows for goals that hold on every case: (figure, comparison, bound)."""
    return [goal_row(case, *goal) for goal in goals for case in cases]


def goal_row(case: dict, figure: str, op: str, bound: float) -> dict:
    """One goal on one case: the figure, the bound, and whether it is met."""
    value = case["figures"][figure]
    return {
        "case": case["name"],
        "dtype": case["dtype"],
        "figure": figure,
        "goal": f"{op} {bound:g}",
        "value": value,
        "met": bool(value >= bound if op == ">=" else value <= bound),
    }
