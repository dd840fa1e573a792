"""warehouse-cdp: a dbt-centred, warehouse-native customer data platform."""

__version__ = "0.1.0"
