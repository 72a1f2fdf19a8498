"""Roles and asset kinds: codes, neutral labels and the per-role vectors built from the parameters.

Codes are small integers stored in the member and asset arrays; labels are neutral role names (no person
is ever named). Exposure vectors give the relative weight with which a removal falls on each role.

Examples
--------
>>> from cartelsim.params import defaults
>>> ROLES[LEADER], ASSET_KINDS[WAREHOUSE]
('leader', 'warehouse')
>>> role_shares(defaults()).round(2).tolist()
[0.0, 0.0, 0.4, 0.25, 0.2, 0.1, 0.05]
>>> exposure(defaults())[:, GUNMAN].tolist()
[1.0, 1.0, 1.0]

"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "ARREST",
    "ASSET_KINDS",
    "CONFLICT",
    "EXIT",
    "FINANCE",
    "GUNMAN",
    "LAB",
    "LEADER",
    "LOGISTICS",
    "LOOKOUT",
    "N_KINDS",
    "N_ROLES",
    "PLAZA_BOSS",
    "PRODUCTION",
    "REMOVALS",
    "ROLES",
    "SAFE_HOUSE",
    "VEHICLE",
    "WAREHOUSE",
    "detect_per_sortie",
    "exposure",
    "role_shares",
]

#: Role labels by code.
ROLES: tuple[str, ...] = ("leader", "plaza_boss", "gunman", "lookout", "logistics", "production", "finance")
LEADER, PLAZA_BOSS, GUNMAN, LOOKOUT, LOGISTICS, PRODUCTION, FINANCE = range(7)
N_ROLES = len(ROLES)

#: Asset kinds by code.
ASSET_KINDS: tuple[str, ...] = ("safe_house", "warehouse", "lab", "vehicle")
SAFE_HOUSE, WAREHOUSE, LAB, VEHICLE = range(4)
N_KINDS = len(ASSET_KINDS)

#: Removal types of the ecosystem's flows, in the order they are applied each week.
REMOVALS: tuple[str, ...] = ("incapacitated", "deaths", "exits")
ARREST, CONFLICT, EXIT = range(3)

_SHARED = ("gunman", "lookout", "logistics", "production", "finance")


def role_shares(p: Mapping[str, float]) -> np.ndarray:
    """Return the probability of each role for a cell member who is neither leader nor plaza boss.

    The five ``role_share_*`` parameters are used as they are when they sum to at most 1 (the rest are
    gunmen, as the spec says) and renormalised to sum to 1 otherwise.
    """
    s = np.array([p[f"role_share_{r}"] for r in _SHARED], dtype=np.float64)
    tot = s.sum()
    if tot > 1.0:
        s = s / tot
    out = np.zeros(N_ROLES)
    out[GUNMAN : FINANCE + 1] = s
    out[GUNMAN] += max(0.0, 1.0 - s.sum())
    return out


def exposure(p: Mapping[str, float]) -> np.ndarray:
    """Return the relative removal weights, shape (3, 7): rows arrests, conflict deaths, exits; gunmen = 1."""
    w = np.ones((len(REMOVALS), N_ROLES))
    for kind, row in (("arrest", ARREST), ("conflict", CONFLICT)):
        for r, name in enumerate(ROLES):
            if r != GUNMAN:
                w[row, r] = p[f"{kind}_exposure_{name}_factor"]
    return w


def detect_per_sortie(p: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Return detection hazards per sortie for each role (7,) and each asset kind (4,).

    Safe houses are never detected: no strategy's target list includes them (they are where people live).
    """
    member = np.full(N_ROLES, p["detect_per_sortie_member"])
    member[LEADER] = p["detect_per_sortie_leader"]
    member[PLAZA_BOSS] = p["detect_per_sortie_plaza_boss"]
    asset = np.zeros(N_KINDS)
    asset[WAREHOUSE] = p["detect_per_sortie_warehouse"]
    asset[LAB] = p["detect_per_sortie_lab"]
    asset[VEHICLE] = p["detect_per_sortie_vehicle"]
    return member, asset
