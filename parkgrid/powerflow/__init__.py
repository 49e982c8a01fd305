"""Time-series AC power flow on pandapower nets.

``run_timeseries_pf(net, profiles, *, tol_pu=1e-9, max_iter=30, method="auto",
raise_on_nonconvergence=False, raise_on_unsupplied=False)`` solves every step of a profile set (the
``simbench.get_absolute_values(net, True)`` / ``ConstControl`` format) with numba
kernels on pandapower's own admittance model and returns a :class:`TimeseriesPF`.
Methods: ``"fixed_point"`` (implicit Z-bus on a once-factorised reduced admittance
matrix, PQ-only grids), ``"newton"`` (polar Newton-Raphson, sparse LU on a fixed
pattern), ``"auto"`` (fixed point with a per-step Newton fallback; Newton where the
grid has PV buses). Q limits of gens are not enforced (as ``runpp``'s default).

``run_reference_pf(net, profiles, *, steps=None, tolerance_mva=1e-10, progress=False)``
is the slow ``pandapower.runpp`` loop the kernels are validated against.
``Linearisation(net, profiles).sensitivities(...)`` gives voltage and loading
sensitivities to active injections at a solved step (network-aware dispatch).
"""

from parkgrid.powerflow._cached import cached_base_model
from parkgrid.powerflow._control import Controls, QVControl, TapChanger
from parkgrid.powerflow._model import with_injections
from parkgrid.powerflow._profiles import check_profiles
from parkgrid.powerflow._reference import PowerFlowWarning, run_reference_pf
from parkgrid.powerflow._result import TimeseriesPF
from parkgrid.powerflow._sensitivity import Linearisation
from parkgrid.powerflow._timeseries import run_timeseries_pf
from parkgrid.powerflow._unsupplied import UnsuppliedBusWarning

__all__ = ["Controls", "Linearisation", "PowerFlowWarning", "QVControl", "TapChanger",
           "TimeseriesPF", "UnsuppliedBusWarning", "cached_base_model", "check_profiles",
           "run_reference_pf", "run_timeseries_pf", "with_injections"]
