"""Money as people read it: the amount with its currency (the `currency` setting, ISO 4217), the same way in the
report, the local stack's banner and anything else that shows revenue.

A few currencies have a symbol everyone reads without doubt ($142, €142, £142, ¥142); every other code is written
before the amount (CHF 142). "$" stands for US dollars only, so CAD, AUD and the others keep their code.
"""

from __future__ import annotations

import math
import re

DASH = "\u2014"
SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "JPY": "\u00a5", "INR": "\u20b9"}
_CODE = re.compile(r"[A-Z]{3}")


def currency_code(value) -> str:
    """An ISO 4217 code as given, upper-cased; USD for anything that is not three letters."""
    code = value.strip().upper() if isinstance(value, str) else ""
    return code if _CODE.fullmatch(code) else "USD"


def format_money(value, currency: str = "USD", *, decimals: int = 0) -> str:
    """142000 -> "$142,000" (USD), "CHF 142,000"; a negative amount as "-$1,200"; "—" when not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return DASH
    code = currency_code(currency)
    amount = f"{abs(value):,.{decimals}f}"
    sign = "-" if round(value, decimals) < 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{code}\u00a0{amount}"
