"""Segments: audiences declared in segments/*.yml, compiled to dbt models, reported on."""

from cdp.segments.compile import CompileResult, compile_segments
from cdp.segments.config import DeclaredSegment, Segment, load_segments
from cdp.segments.report import SegmentReport, segment_report

__all__ = [
    "CompileResult",
    "DeclaredSegment",
    "Segment",
    "SegmentReport",
    "compile_segments",
    "load_segments",
    "segment_report",
]
