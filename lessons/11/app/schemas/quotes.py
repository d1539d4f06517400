"""DTOs of the quotes endpoint: what a cross-currency amount comes to, and at which rate."""

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class QuoteRead(BaseModel):
    """A quote. `rate` is a decimal string ("1.0842"), never a float; amounts are integer minor units."""

    model_config = ConfigDict(from_attributes=True)

    base: str = Field(description="ISO 4217 code of the amount.", examples=["EUR"])
    target: str = Field(description="ISO 4217 code of the converted amount.", examples=["USD"])
    amount: int = Field(description="Minor units of `base`.", examples=[1000])
    rate: Decimal = Field(description="Units of `target` for one unit of `base`, as a decimal string.")
    converted: int = Field(description="Minor units of `target`, rounded half up.", examples=[1084])
    rounding: Literal["half-up"] = "half-up"
