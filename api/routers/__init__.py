"""One router per resource of the SLA service."""
