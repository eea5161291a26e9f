"""Numbers for the Math Operation step: reading a number as people write it, and the operations.

Arithmetic is done in Decimal so that 0.1 + 0.2 is 0.3, as a marketer expects from a price or a
score. Every problem raises ValueError with a message naming the value, for the step's log.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

# Inputs and results stay below this: far more than any price or count, and still exact as a JSON number.
LIMIT = Decimal(10) ** 15
MAX_DECIMALS = 10  # places kept in a result (1 / 3 is 0.3333333333)
BINARY_OPERATIONS = ("add", "subtract", "multiply", "divide")

# "1,234.50", "-3", "+2.5", ".5", "$19.99", "€ 5", "12 %": a sign, an optional currency sign, digits with
# optional thousands separators, an optional fraction; the whole value must be the number.
_NUMBER = re.compile(r"^([+-]?)\s*[$€£¥]?\s*([+-]?)((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)\s*%?$")


def shown(value: str, limit: int = 60) -> str:
    """A value as quoted in a message, cut short if long."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def parse_number(text: str) -> Decimal:
    """The number `text` holds, or ValueError naming it."""
    match = _NUMBER.match(text.strip())
    if not match or (match.group(1) and match.group(2)):
        raise ValueError(f"{shown(text.strip())} is not a number")
    sign = "-" if "-" in (match.group(1) + match.group(2)) else ""
    number = Decimal(sign + match.group(3).replace(",", ""))
    if abs(number) >= LIMIT:
        raise ValueError(f"{shown(text.strip())} is too large (the limit is 10^15)")
    return number


def calculate(operation: str, value: Decimal, operand: Decimal | None = None, decimals: int = 0) -> Decimal:
    """value <operation> operand (round: value to `decimals` places), or ValueError saying why not."""
    with localcontext() as context:
        # Far more digits than a result below LIMIT with MAX_DECIMALS places holds, so quantize never overflows.
        context.prec = 60
        if operation == "round":
            result, places = value, decimals
        else:
            if operand is None:
                raise ValueError(f"{operation} needs a second number")
            if operation == "divide" and operand == 0:
                raise ValueError(f"cannot divide {value} by zero")
            match operation:
                case "add":
                    result = value + operand
                case "subtract":
                    result = value - operand
                case "multiply":
                    result = value * operand
                case "divide":
                    result = value / operand
                case _:
                    raise ValueError(f"unknown operation {operation!r}")
            places = MAX_DECIMALS
        if abs(result) >= LIMIT:
            raise ValueError(f"the result of {operation} is too large (the limit is 10^15)")
        return result.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def as_json_number(number: Decimal) -> int | float:
    """The number as JSON holds it: a whole number as an int, anything else as a float."""
    if number == number.to_integral_value():
        return int(number)
    return float(number.normalize())


def as_text(number: Decimal) -> str:
    """The number written plainly, without an exponent or trailing zeros: 2.50 -> "2.5", 1E+3 -> "1000"."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text
