"""Hypothesis strategy of random small parks, shared by the dispatch and optimal tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from parkgrid.dispatch import DispatchInputs


@st.composite
def parks(draw) -> DispatchInputs:
    """1-48 steps, up to two batteries and two electrolysers, an optional tank."""
    n = draw(st.integers(1, 48))
    nb = draw(st.integers(0, 2))
    ne = draw(st.integers(0, 2))
    arr = lambda k, lo, hi: np.array(draw(st.lists(st.floats(lo, hi), min_size=k,  # noqa: E731
                                                   max_size=k)))
    soc_min = arr(nb, 0.0, 0.4)
    soc_max = soc_min + arr(nb, 0.1, 0.6)
    soc_init = soc_min + (soc_max - soc_min) * arr(nb, 0.0, 1.0)
    has_tank = draw(st.booleans())
    cap = draw(st.floats(1.0, 500.0)) if has_tank else 0.0
    return DispatchInputs(
        res_mw=arr(n, 0.0, 20.0), load_mw=arr(n, 0.0, 20.0),
        import_limit_mw=arr(n, 0.0, 15.0), export_limit_mw=arr(n, 0.0, 15.0),
        bat_p_mw=arr(nb, 0.0, 10.0), bat_e_mwh=arr(nb, 0.5, 20.0),
        bat_eta_charge=arr(nb, 0.5, 1.0), bat_eta_discharge=arr(nb, 0.5, 1.0),
        bat_soc_min_pu=soc_min, bat_soc_max_pu=soc_max, bat_soc_initial_pu=soc_init,
        el_p_mw=arr(ne, 0.1, 10.0), el_kwh_per_kg=arr(ne, 40.0, 70.0),
        el_min_load_pu=arr(ne, 0.0, 0.6),
        tank_capacity_kg=cap,
        tank_initial_kg=draw(st.floats(0.0, 1.0)) * cap,
        h2_demand_kg=arr(n, 0.0, 60.0) if has_tank else None,
        dt_h=draw(st.sampled_from([0.25, 0.5, 1.0])),
    )
