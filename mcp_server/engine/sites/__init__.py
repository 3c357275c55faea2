"""The `sites` service: sites, their deployments (built and served as static files), request logs and variables."""
