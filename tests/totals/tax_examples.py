"""The worked tax-coded days of docs/accounting.md: NZ (15% GST, amounts without tax)
and UK (20% VAT, amounts with tax). The pure journal rules and the whole-system tests
check the same days."""

NZ_ACCOUNTS = {"rental": "210", "sales": "200", "discounts": "270", "cash": "620",
               "visa": "630", "tax-rounding": "860", "over-short": "690"}
GST_RATES = {"rental": "OUTPUT2", "sales": "OUTPUT2", "discounts": "OUTPUT2"}

# NZ: three sales lines without tax. Xero taxes each line (3.76 + 3.84 + 3.84 = 11.44);
# the POS taxed the total (76.30 x 15% = 11.45): the cent goes to tax rounding.
NZ_DAY = {
    "currency": "NZD",
    "revenue": [{"category": "rental", "amount": "25.06"},
                {"category": "sales", "amount": "25.61"},
                {"category": "rental", "item_category": "Trailers", "amount": "25.63"}],
    "taxes": [{"kind": "rental-tax", "amount": "11.45"}],
    "tenders": [{"type": "cash", "received": "87.75"}],
}
# UK: amounts with VAT included; a discount reduces the VAT.
UK_DAY = {
    "currency": "GBP",
    "revenue": [{"category": "rental", "amount": "120.00"},
                {"category": "sales", "amount": "59.99"}],
    "discounts": "10.01",
    "taxes": [{"kind": "sales-tax", "amount": "28.33"}],
    "tenders": [{"type": "cash", "received": "169.98"}],
}
