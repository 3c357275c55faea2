"""`baas-mcp migrate`: a project's data moved between any two backends (embedded engine or Appwrite server)
through catalog operations, resumable, idempotent and verified at the end."""

# The resource families `--resources` names, in the order they move (runner.FAMILIES says how each moves).
RESOURCES = ("databases", "users", "teams", "storage", "functions", "sites", "messaging", "webhooks", "project")
