"""Background work: the Celery worker, the sweep that dispatches due work, delivery of the outbox."""
