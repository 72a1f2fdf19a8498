"""Interventions: one frozen dataclass per type, one explicit registry shared by files, CLI and web.

Every intervention has ``start`` (date, required) and ``end`` (date, optional, exclusive). Its other keys
are dataclass fields whose metadata give bounds (numeric keys may be distribution tables, drawn once per
replicate), allowed values (choice keys) or item patterns (code lists). Within a policy interventions act
in file order; two that scale the same parameter multiply.

Examples
--------
>>> from cartelsim.policies import REGISTRY
>>> [k for k in ("recruitment", "incapacitation", "strike_campaign") if k in REGISTRY]
['recruitment', 'incapacitation', 'strike_campaign']

"""

from __future__ import annotations

from cartelsim.policies.base import Intervention, KeySpec, key, key_specs
from cartelsim.policies.ecosystem import Incapacitation, Recruitment
from cartelsim.policies.geography import Crackdown, Interdiction
from cartelsim.policies.organisation import Cooperation, StrikeCampaign, TargetedArrests

__all__ = ["REGISTRY", "Intervention", "KeySpec", "key", "key_specs"]


#: The one name-to-class mapping (no import-time self-registration).
REGISTRY: dict[str, type[Intervention]] = {
    c.type: c
    for c in (Recruitment, Incapacitation, TargetedArrests, StrikeCampaign, Cooperation, Crackdown, Interdiction)
}
