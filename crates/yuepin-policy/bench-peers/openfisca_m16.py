"""OpenFisca peer for the yuepin-policy M16 benchmark (benchmark only, not CI).

Computes the 粤市监〔2023〕74号 measure 16 rule — combined China turnover > 20亿 or worldwide
> 100亿, and at least two parties each > 4亿 in China — for 1,000,000 synthetic mergers of
3 parties (same distribution as benches/match.rs), with openfisca-core, and prints throughput.

    python3 -m venv /tmp/ofvenv && /tmp/ofvenv/bin/pip install openfisca-core numpy
    /tmp/ofvenv/bin/python crates/yuepin-policy/bench-peers/openfisca_m16.py [N]
"""

import sys
import time

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.periods import YEAR
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

Party = build_entity(key="party", plural="parties", label="Merger party", is_person=True)
Merger = build_entity(
    key="merger",
    plural="mergers",
    label="Concentration of undertakings",
    roles=[{"key": "party", "plural": "parties", "label": "Party"}],
)

YI = 100_000_000.0


class revenue_china(Variable):
    value_type = float
    entity = Party
    definition_period = YEAR
    label = "Previous fiscal year turnover in China (yuan)"


class revenue_world(Variable):
    value_type = float
    entity = Party
    definition_period = YEAR
    label = "Previous fiscal year worldwide turnover (yuan)"


class m16_eligible(Variable):
    value_type = bool
    entity = Merger
    definition_period = YEAR
    label = "M16 merger green channel"

    def formula(merger, period):
        china = merger.sum(merger.members("revenue_china", period))
        world = merger.sum(merger.members("revenue_world", period))
        over_party = merger.sum(merger.members("revenue_china", period) > 4 * YI)
        return ((china > 20 * YI) + (world > 100 * YI)) * (over_party >= 2)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    parties = 3
    tbs = TaxBenefitSystem([Party, Merger])
    tbs.add_variables(revenue_china, revenue_world, m16_eligible)

    rng = np.random.default_rng(42)
    china = rng.integers(0, 1_500_000, size=n * parties).astype(np.float64) * 1000.0
    world = china * (1 + rng.integers(0, 3, size=n * parties))

    t0 = time.perf_counter()
    builder = SimulationBuilder()
    builder.create_entities(tbs)
    builder.declare_person_entity("party", np.arange(n * parties))
    mergers = builder.declare_entity("merger", np.arange(n))
    builder.join_with_persons(mergers, np.repeat(np.arange(n), parties), ["party"] * (n * parties))
    sim = builder.build(tbs)
    sim.set_input("revenue_china", "2023", china)
    sim.set_input("revenue_world", "2023", world)
    t1 = time.perf_counter()
    eligible = sim.calculate("m16_eligible", "2023")
    t2 = time.perf_counter()
    print(f"openfisca-core: {n} mergers x {parties} parties; setup {t1 - t0:.3f}s, calculate {t2 - t1:.3f}s")
    print(f"  calculate only: {n / (t2 - t1) / 1e6:.2f} M mergers/s; incl. setup: {n / (t2 - t0) / 1e6:.2f} M mergers/s")
    print(f"  eligible: {int(eligible.sum())} of {n}")


if __name__ == "__main__":
    main()
