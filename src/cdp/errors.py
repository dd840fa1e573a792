"""Exceptions the CLI turns into one-line, actionable messages."""


class CdpError(Exception):
    """Base class: a problem the user can fix; the message says how."""


class LoadError(CdpError):
    """A landing file could not be loaded (missing, corrupt, or not matching its source)."""


class ConfigError(CdpError):
    """A declarative configuration file is invalid."""


class EvaluationError(CdpError):
    """Identity resolution could not be evaluated (missing warehouse, table or ground truth)."""


class PredictiveError(CdpError):
    """A predictive model (BG/NBD, Gamma-Gamma) cannot be fitted or applied to the data."""


class UnfittableDataError(PredictiveError):
    """The data cannot support a predictive model (no customers, no repeat buyers, spend too
    heavy-tailed): the dbt models record why and leave the scores null instead of failing."""


class SegmentError(ConfigError):
    """A segment declaration (segments/*.yml) is invalid, or its compiled models are out of date."""


class QualityCheckFailed(CdpError):
    """An error-severity data quality expectation (expectations/*.yml) failed."""


class SyncConfigError(ConfigError):
    """A sync declaration (syncs/*.yml) is invalid."""


class SyncError(CdpError):
    """A sync could not run (wrong target, missing source tables, unknown sync)."""


class ErasureError(CdpError):
    """An erasure request cannot be carried out (no warehouse, an ambiguous subject)."""


class SubjectNotFound(ErasureError):
    """No customer matches the email or customer id an erasure request names."""
