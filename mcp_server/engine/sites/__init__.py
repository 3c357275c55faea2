"""The `sites` service: sites, their deployments (built, then served as static files or by the server their
framework builds), request logs and variables."""
