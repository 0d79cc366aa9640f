"""One rule for a store's id, for every door a store id comes through (auth's setup,
totals' API, the POS's messages): what one service accepts, every other accepts too, so
a store can never finish Xero's connect flow under an id totals then refuses."""

from typing import Annotated

from pydantic import Field

STORE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,20}$"
STORE_ID_RULE = "the store's id: 1 to 20 letters, digits, '_' or '-' (e.g. 12)"

StoreIdText = Annotated[str, Field(pattern=STORE_ID_PATTERN, description=STORE_ID_RULE)]
