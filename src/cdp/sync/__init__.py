"""Reverse-ETL syncs: declared in syncs/*.yml, diffed in the warehouse, pushed to destinations."""

from cdp.sync.config import DeclaredSync, load_syncs
from cdp.sync.engine import find_sync, run_sync
from cdp.sync.state import SyncRun, last_runs

__all__ = ["DeclaredSync", "SyncRun", "find_sync", "last_runs", "load_syncs", "run_sync"]
