"""Deterministic generator of realistic, noisy raw customer data with ground truth."""

from cdp.generate.run import GenerationResult, generate

__all__ = ["GenerationResult", "generate"]
