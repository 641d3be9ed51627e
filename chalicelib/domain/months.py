"""Calendar months, the unit of every monthly figure: one type and all month arithmetic.

A month is written "YYYY-MM" on the wire and in tables; inside the code it is a `Month`, whose arithmetic is
integer arithmetic on a count of months. Times are UTC: a month runs from its first instant to the next
month's first instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib.domain.clock import utc

# Year 0000 is no year (the calendar, and datetime, start at 0001).
MONTH_RE = re.compile(r"^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])\Z")
NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, order=True)
class Month:
    index: int  # year * 12 + month - 1

    @classmethod
    def parse(cls, text: str) -> Month:
        """ "2026-10" -> Month; ValueError for anything else (a trailing newline included)."""
        if not isinstance(text, str) or not MONTH_RE.fullmatch(text):
            raise ValueError(f"not a month like 2026-01: {text!r}")
        return cls(int(text[:4]) * 12 + int(text[5:7]) - 1)

    @classmethod
    def of(cls, moment: datetime) -> Month:
        """The month `moment` falls in (UTC; a naive time is taken as UTC)."""
        moment = utc(moment)
        return cls(moment.year * 12 + moment.month - 1)

    @property
    def year(self) -> int:
        return self.index // 12

    @property
    def number(self) -> int:
        return self.index % 12 + 1

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.number:02d}"

    def shift(self, months: int) -> Month:
        return Month(self.index + months)

    def previous(self) -> Month:
        return self.shift(-1)

    def start(self) -> datetime:
        return datetime(self.year, self.number, 1, tzinfo=UTC)

    def end(self) -> datetime:
        """The first instant of the next month (exclusive)."""
        return self.shift(1).start()

    def title(self) -> str:
        """ "October 2026"."""
        return f"{NAMES[self.number - 1]} {self.year}"

    def is_running(self, moment: datetime) -> bool:
        """Whether the month is still going at `moment` (its figures are "so far")."""
        return self.start() <= utc(moment) < self.end()

    def is_future(self, moment: datetime) -> bool:
        """Whether the month has not begun at `moment`."""
        return utc(moment) < self.start()


def is_month(text: object) -> bool:
    return isinstance(text, str) and MONTH_RE.fullmatch(text) is not None


def ending(month: str | Month, count: int) -> list[str]:
    """The `count` months ending with `month`, oldest first, as "YYYY-MM"."""
    last = month if isinstance(month, Month) else Month.parse(month)
    return [str(last.shift(k)) for k in range(1 - count, 1)]


def previous(moment: datetime) -> str:
    """The month before the one `moment` falls in: the month a scheduled run computes."""
    return str(Month.of(moment).previous())
