"""Grid emission factors, versioned by data year.

Values are the average CO2 emission factors of electricity supply published by
China's Ministry of Ecology and Environment (MEE) with the National Bureau of
Statistics (NBS):

* national 2021: 0.5568 kgCO2/kWh (MEE announcement, 2023);
* national 2022: 0.5366 kgCO2/kWh and Inner Mongolia 2022: 0.6849 kgCO2/kWh
  (MEE/NBS announcement on 2022 electricity CO2 emission factors, 2024).

Add a year by adding an entry; lookups never fall back to another year silently.
"""

from __future__ import annotations

__all__ = ["EMISSION_FACTORS_KG_PER_KWH", "emission_factor"]

EMISSION_FACTORS_KG_PER_KWH: dict[str, dict[int, float]] = {
    "inner_mongolia": {2022: 0.6849},
    "national": {2021: 0.5568, 2022: 0.5366},
}


def emission_factor(name: str, year: int) -> float:
    """Return the emission factor [kgCO2/kWh] of table *name* for data *year*.

    Raises
    ------
    KeyError
        With the available names or years when either is unknown.
    """
    try:
        table = EMISSION_FACTORS_KG_PER_KWH[name]
    except KeyError:
        raise KeyError(
            f"unknown emission-factor table {name!r}; allowed: "
            + ", ".join(sorted(EMISSION_FACTORS_KG_PER_KWH))
        ) from None
    try:
        return table[year]
    except KeyError:
        raise KeyError(
            f"no {name!r} emission factor for {year}; available years: "
            + ", ".join(str(y) for y in sorted(table))
        ) from None
