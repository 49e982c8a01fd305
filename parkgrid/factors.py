"""Grid emission factors, versioned by data year, each with its source.

The values are the average CO2 emission factors of electricity supply that China's
Ministry of Ecology and Environment (MEE, 生态环境部) and National Bureau of
Statistics (NBS, 国家统计局) publish once a year, in [kgCO2/kWh] (= tCO2/MWh):

* 2021 data: 《关于发布2021年电力二氧化碳排放因子的公告》, MEE/NBS announcement
  2024 No. 12, 12 April 2024;
* 2022 data: 《关于发布2022年电力二氧化碳排放因子的公告》, MEE/NBS, 20 December
  2024 (same method and data sources as the 2021 factors);
* 2023 data: 《关于发布2023年电力二氧化碳排放因子的公告》, MEE/NBS, published at
  the turn of 2025/2026.

Each announcement has three kinds of factor: national, regional and provincial
averages (``national``, ``north_china`` ..., ``inner_mongolia`` ...); the national
average *excluding market-traded non-fossil electricity* (``national_excl_market``,
the factor for a consumer that deducts its green-power purchases, i.e. a residual
mix); and the national *fossil-fuel power* factor (``national_fossil``).

What is here and what is not
----------------------------
parkgrid had no access to the announcements' own tables when this table was
written (no internet), only to press reports quoting them, so it holds the values
those reports quote, each with its report, and nothing it could not check:

* national, national_excl_market, national_fossil: 2021-2023 as quoted below;
* the seven regional grids: 2022 and 2023 (both quoted in full);
* provinces: the ten 2022 values the press quoted (the five highest and the five
  lowest). The other 21 provinces' 2022 factors exist in the announcement but are
  **not** in this table, because parkgrid could not verify them; they are listed in
  :data:`PROVINCES_NOT_TABULATED` so that asking for one says exactly that. Add them
  from the announcement's annex (one entry each, with the annex as source).

A lookup never falls back to another year or another area: a missing entry is an
error naming what exists.
"""

from __future__ import annotations

__all__ = [
    "EMISSION_FACTORS_KG_PER_KWH",
    "FACTOR_SOURCES",
    "PROVINCES_NOT_TABULATED",
    "emission_factor",
]

_SRC_2021 = ("MEE/NBS, 关于发布2021年电力二氧化碳排放因子的公告 (announcement 2024 No. 12), "
             "2024; value as quoted in the 2022 report below")
_SRC_2022 = ("MEE/NBS, 关于发布2022年电力二氧化碳排放因子的公告, 20 Dec 2024; values as "
             "quoted by Beijing News (新京报), '2022年电力二氧化碳排放因子公布, 比上一年降低"
             "3.6%', 27 Dec 2024")
_SRC_2023 = ("MEE/NBS, 关于发布2023年电力二氧化碳排放因子的公告, 2025; values as quoted by "
             "Guangming Daily (光明日报), '数据显示: 我国发电能源结构持续优化', and China "
             "Electric Power News (中国电力报), 15 Jan 2026")

#: name -> {data year: kgCO2/kWh}; sources in FACTOR_SOURCES
EMISSION_FACTORS_KG_PER_KWH: dict[str, dict[int, float]] = {
    # national averages
    "national": {2021: 0.5568, 2022: 0.5366, 2023: 0.5306},
    # national average excluding market-traded non-fossil electricity (2021: not quoted
    # in the reports parkgrid could read, so absent)
    "national_excl_market": {2022: 0.5856, 2023: 0.6096},
    # national fossil-fuel electricity
    "national_fossil": {2021: 0.8426, 2022: 0.8325, 2023: 0.8273},
    # regional grids
    "north_china": {2022: 0.6776, 2023: 0.6361},
    "northeast_china": {2022: 0.5564, 2023: 0.5122},
    "east_china": {2022: 0.5617, 2023: 0.5500},
    "central_china": {2022: 0.5395, 2023: 0.5271},
    "northwest_china": {2022: 0.5857, 2023: 0.5543},
    "south_china": {2022: 0.3869, 2023: 0.4042},
    "southwest_china": {2022: 0.2268, 2023: 0.2472},
    # provinces, 2022 data (the five highest and five lowest, as quoted)
    "hebei": {2022: 0.7252},
    "shanxi": {2022: 0.7096},
    "tianjin": {2022: 0.7041},
    "inner_mongolia": {2022: 0.6849},
    "anhui": {2022: 0.6782},
    "fujian": {2022: 0.4092},
    "guangxi": {2022: 0.4044},
    "qinghai": {2022: 0.1567},
    "sichuan": {2022: 0.1404},
    "yunnan": {2022: 0.1073},
}

#: name -> {data year: source (publisher, document, year)}
FACTOR_SOURCES: dict[str, dict[int, str]] = {
    name: {y: {2021: _SRC_2021, 2022: _SRC_2022, 2023: _SRC_2023}[y] for y in years}
    for name, years in EMISSION_FACTORS_KG_PER_KWH.items()
}
# the 2021 fossil factor is quoted in the 2022 report ("比2021年的0.8426降低0.0101")
# and the 2021 national average likewise ("比2021年的0.5568降低0.0202")

#: provinces the MEE/NBS 2022 announcement covers whose factors parkgrid could not
#: verify (see the module docstring); asking for one is an error that says so
PROVINCES_NOT_TABULATED: tuple[str, ...] = (
    "beijing", "liaoning", "jilin", "heilongjiang", "shanghai", "jiangsu", "zhejiang",
    "jiangxi", "shandong", "henan", "hubei", "hunan", "guangdong", "hainan", "chongqing",
    "guizhou", "tibet", "shaanxi", "gansu", "ningxia", "xinjiang",
)


def emission_factor(name: str, year: int) -> float:
    """Return the emission factor [kgCO2/kWh] of table *name* for data *year*.

    Raises
    ------
    KeyError
        With the available names or years when either is unknown; for a province
        the announcement covers but this table does not, saying so.
    """
    try:
        table = EMISSION_FACTORS_KG_PER_KWH[name]
    except KeyError:
        if name in PROVINCES_NOT_TABULATED:
            raise KeyError(
                f"emission factor {name!r}: the MEE/NBS announcements publish it, but "
                "parkgrid's table does not hold it (it could not be verified when the table "
                "was written); give the value as a number [kgCO2/kWh] from the announcement, "
                "or use one of: " + ", ".join(sorted(EMISSION_FACTORS_KG_PER_KWH))) from None
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
