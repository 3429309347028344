"""One function per user-visible action. Each owns exactly one transaction through the unit of work."""
