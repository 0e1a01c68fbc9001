"""Packaged data and their loaders.

Public data (Crown copyright, Open Government Licence v3.0; see ``data/ATTRIBUTION.md``):
the DfE children looked after LA-level underlying data for 2015-2019, Ofsted's fostering
data for 2018-19 and ONS mid-2019 and mid-2020 population estimates by single year of age.
Synthetic SSDA903 returns (Social Finance Ltd, MIT) are under ``data/ssda903/fake903``. The published findings
of the source documents ship as ``data/published_findings.toml``. The calibrated synthetic
South East sample is not data but a generator: :func:`lacstats.synthetic.complex_lac`.

Loaders read files from the package only: nothing is fetched over a network.
"""

from lacstats.datasets._panel import national_panel
from lacstats.datasets._releases import (
    ATTRIBUTION,
    DFE_COLUMNS,
    FRAME_POPULATIONS,
    INNER_LONDON,
    PUBLISHED_SETTING_LABELS,
    REGIONS,
    SOUTH_EAST,
    authorities,
    authority_frame,
    data_path,
    dfe_cla,
    english_authorities,
    ofsted_fostering,
    ofsted_providers,
    ons_population,
    published_findings,
    region_of,
    short_code,
    south_east_authorities,
)

__all__ = [
    "ATTRIBUTION",
    "DFE_COLUMNS",
    "FRAME_POPULATIONS",
    "INNER_LONDON",
    "PUBLISHED_SETTING_LABELS",
    "REGIONS",
    "SOUTH_EAST",
    "authorities",
    "authority_frame",
    "data_path",
    "dfe_cla",
    "english_authorities",
    "national_panel",
    "ofsted_fostering",
    "ofsted_providers",
    "ons_population",
    "published_findings",
    "region_of",
    "short_code",
    "south_east_authorities",
]
