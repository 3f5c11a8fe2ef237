"""Lambda: report per-customer daily usage to Stripe Billing meter events, once per
(customer, meter, day)."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("meter_stripe", handlers.meter)
