"""Organisation layer: synthetic members, cells and assets inside every cartel, and the campaign chain.

Spec: ``models/organisation.md`` ("Members, cells and assets", "The campaign chain", "Adaptation"). Everything here is
synthetic and acts only through rates and probabilities; outcomes are aggregates by nation and cartel
(DESIGN.md, "The line we hold").

- :mod:`~cartelsim.params.organisation`: the layer's parameters (cited or "assumption", with ranges);
- :mod:`~cartelsim.organisation.roles`: role and asset codes, shares, exposure and detection vectors;
- :mod:`~cartelsim.organisation.members`, :mod:`~cartelsim.organisation.cells`,
  :mod:`~cartelsim.organisation.assets`: the arrays (ensemble axis first);
- :mod:`~cartelsim.organisation.generate`: members, cells and assets from the ecosystem state at start;
- :mod:`~cartelsim.organisation.ties`: hierarchy and value-chain ties as columnar edge arrays;
- :mod:`~cartelsim.organisation.coupling`: the ecosystem's weekly flows applied to members;
- :mod:`~cartelsim.organisation.campaign`: surveillance, target list and strikes;
- :mod:`~cartelsim.organisation.schedule`: the interventions' weekly settings;
- :mod:`~cartelsim.organisation.adaptation`: replacement and succession, violence after targeted removals,
  the odds of a fission (spec section "Adaptation");
- :mod:`~cartelsim.organisation.factions`: fission into factions, new cartels of the ecosystem per
  experiment (ids, neutral labels, their rivalries and alliances);
- :mod:`~cartelsim.organisation.rewiring`: explicit tie networks after removals, efficiency and density;
- :mod:`~cartelsim.organisation.layer`: the layer in the weekly loop, and its outcomes;
- (the validation experiments written in code, a single removal beside its paired counterfactual and the
  2007-2020 backcast, are in :mod:`cartelsim.validation`: they run the loop, which no layer imports);
- :mod:`~cartelsim.params.organisation_fitted`: the fitted defaults (``data-raw/fit_organisation_adaptation.py``);
- :mod:`~cartelsim.organisation.buckets`, :mod:`~cartelsim.philox`: the index and the
  counter-based random numbers that make the weekly step cost what its events cost.

Examples
--------
>>> import cartelsim
>>> sc = cartelsim.Scenario.from_text('''
... [scenario]
... name = "org"
... start = 2012-01-01
... end = 2013-01-01
... layers = ["ecosystem", "organisation"]
... [parameters]
... organisation_scale = 0.1
... ''')
>>> res = cartelsim.run(sc)
>>> "n_trafficking_capacity" in set(res.outcomes["variable"])
True

"""

from __future__ import annotations

from cartelsim.organisation.assets import Assets
from cartelsim.organisation.cells import Cells
from cartelsim.organisation.generate import generate
from cartelsim.organisation.layer import FLOW_VARIABLES, STOCK_VARIABLES, OrganisationLayer
from cartelsim.organisation.members import Members
from cartelsim.organisation.roles import ASSET_KINDS, ROLES
from cartelsim.organisation.ties import Ties, ties
from cartelsim.params.organisation import ORGANISATION

__all__ = [
    "ASSET_KINDS",
    "FLOW_VARIABLES",
    "ORGANISATION",
    "ROLES",
    "STOCK_VARIABLES",
    "Assets",
    "Cells",
    "Members",
    "OrganisationLayer",
    "Ties",
    "generate",
    "ties",
]
