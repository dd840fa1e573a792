"""Predictive customer scores: BG/NBD purchases and churn, Gamma-Gamma spend, discounted CLV.

Pure numpy/scipy. The dbt Python models ``int_customer__prediction_fit`` and
``int_customer__predictions`` (models/intermediate/customer) are thin wrappers around
``bgnbd.fit``, ``gamma_gamma.fit`` and ``clv.customer_lifetime_value``.
"""
