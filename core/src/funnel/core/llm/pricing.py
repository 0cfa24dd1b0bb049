"""Estimated LLM cost per call, for the trace, analytics and the dashboards.

List prices in USD per million tokens (Gemini API, paid tier, text). They are estimates: the
bill is the provider's; update the table when prices change. Unknown models and the offline
provider cost nothing, so an estimate is never invented.
"""

from __future__ import annotations

from decimal import Decimal

#: model prefix → (input, output) USD per 1M tokens. The longest matching prefix wins.
PRICES_PER_MILLION: dict[str, tuple[Decimal, Decimal]] = {
    "gemini-2.5-pro": (Decimal("1.25"), Decimal("10.00")),
    "gemini-2.5-flash-lite": (Decimal("0.10"), Decimal("0.40")),
    "gemini-2.5-flash": (Decimal("0.30"), Decimal("2.50")),
    "gemini-2.0-flash-lite": (Decimal("0.075"), Decimal("0.30")),
    "gemini-2.0-flash": (Decimal("0.10"), Decimal("0.40")),
}
_MILLION = Decimal(1_000_000)


def estimate_cost(model: str, input_tokens: int, output_tokens: int) -> Decimal:
    match = max((p for p in PRICES_PER_MILLION if model.startswith(p)), key=len, default=None)
    if match is None:
        return Decimal(0)
    price_in, price_out = PRICES_PER_MILLION[match]
    return (price_in * input_tokens + price_out * output_tokens) / _MILLION
