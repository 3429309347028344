"""The only package that imports SpiffWorkflow: parsing, sandboxed scripts, running, serialization.

It hands plain dataclasses to the rest of the system.
"""
