"""Alert rules (pure: thresholds, anomalies, recommendations) and durable dedup state.

Rules turn projections and findings into ``Alert`` objects; ``state`` claims each alert key
once in the object store; ``pending`` keeps deferred and dead-lettered deliveries.
"""
