"""Temporal consistency: the previous stylized frame, warped by flow, constrains the next."""
