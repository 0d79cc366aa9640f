"""The posting service: store-totals-closed events become manual journals in Xero, once."""
