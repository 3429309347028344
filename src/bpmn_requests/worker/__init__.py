"""Background work: delivery of the outbox now; timers, retries and asynchronous service tasks later."""
