"""Ways events come in: SNS HTTP(S) subscriptions (`sns`); later the SQS worker and webhooks."""
