"""bpmn-requests: customer requests run as BPMN processes, with their financial effect booked."""

__version__ = "0.1.0"
