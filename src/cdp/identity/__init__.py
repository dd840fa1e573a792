"""Identity resolution helpers used by the dbt models in models/intermediate/identity."""
