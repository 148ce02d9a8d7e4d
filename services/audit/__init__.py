"""Auditing: logged reads, chain verification, reproducible reports and self-contained case-file exports.

Kept free of imports so that `python -m services.audit.verify_export FILE` loads nothing else.
"""
