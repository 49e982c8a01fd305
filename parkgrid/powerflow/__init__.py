"""Time-series AC power flow on pandapower nets.

``run_timeseries_pf`` solves every step of a profile set; ``run_reference_pf`` is the
slow ``pandapower.runpp`` loop it is validated against.
"""

from parkgrid.powerflow._reference import PowerFlowWarning, run_reference_pf
from parkgrid.powerflow._result import TimeseriesPF
from parkgrid.powerflow._timeseries import run_timeseries_pf

__all__ = ["PowerFlowWarning", "TimeseriesPF", "run_reference_pf", "run_timeseries_pf"]
