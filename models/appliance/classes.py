"""The ACSF1 class set: the archive's codes, and the categories they stand for.

The UCR archive's description lists the 10 appliance categories, but labels the series
only "0" to "9" and says nowhere which code is which category; the listing order is not
a mapping (see data/PROVENANCE.md). So results carry the archive's code as `label`, and
the categories are documented as a set.
"""

from __future__ import annotations

CODES = tuple(str(code) for code in range(10))

# As listed in the archive's description (ACSF1_TRAIN.ts header), in that order.
CATEGORIES = (
    "mobile phones (via chargers)",
    "coffee machines",
    "computer stations (including monitor)",
    "fridges and freezers",
    "Hi-Fi systems (CD players)",
    "lamps (CFL)",
    "laptops (via chargers)",
    "microwave ovens",
    "printers",
    "televisions (LCD or LED)",
)
