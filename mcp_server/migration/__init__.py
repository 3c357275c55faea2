"""`baas-mcp migrate`: a project's data moved between any two backends (embedded engine or Appwrite server)
through catalog operations, resumable, idempotent and verified at the end."""
