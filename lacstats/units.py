"""Calendar conventions shared by every module that turns days into weeks, months or years.

Each constant has one home, here; the source documents use two conventions for a year of
weeks, and each is named for what it is:

- :data:`WEEKS_PER_YEAR` (52.143, 365 / 7 to three decimals): annual spend from weekly
  costs, as the South East Complex LAC project's "£34.7 million a year" is computed.
- :data:`BUDGET_WEEKS_PER_YEAR` (52): the budgeting convention of Dorset Council's savings
  tables and of a week-based cost calculator.
"""

from __future__ import annotations

__all__ = [
    "BUDGET_WEEKS_PER_YEAR",
    "DAYS_PER_MONTH",
    "DAYS_PER_WEEK",
    "DAYS_PER_YEAR",
    "WEEKS_PER_YEAR",
]

#: Mean days in a year (Julian year), for ages and durations in months.
DAYS_PER_YEAR = 365.25
#: Mean days in a month.
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
#: Days in a week.
DAYS_PER_WEEK = 7
#: Weeks in a year for annual costs: 365 / 7 to three decimals.
WEEKS_PER_YEAR = 52.143
#: Weeks in a budget year, as Dorset Council's savings tables count them.
BUDGET_WEEKS_PER_YEAR = 52
