"""The service of the deployment example (docs/deployment.md): an order workflow served over HTTP, its payments
arriving as signed Stripe webhooks that RQ workers deliver."""
