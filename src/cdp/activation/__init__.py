"""Activation: getting segment membership out of the warehouse to where it is used."""

from cdp.activation.segment_files import DEFAULT_EXPORT_DIR, SegmentFile, export_segment_files

__all__ = ["DEFAULT_EXPORT_DIR", "SegmentFile", "export_segment_files"]
