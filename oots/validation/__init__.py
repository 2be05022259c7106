"""EDM validation: own structural and business rules per version, official XSD / Schematron / code lists
loaded by path, and cross-validation of message pairs."""

from oots.validation.findings import Finding, Report, ValidationSetupError
from oots.validation.validate import validate_bytes, validate_file

__all__ = ["Finding", "Report", "ValidationSetupError", "validate_bytes", "validate_file"]
