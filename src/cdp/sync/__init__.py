"""Reverse-ETL syncs: declared in syncs/*.yml, diffed in the warehouse, pushed to destinations."""
