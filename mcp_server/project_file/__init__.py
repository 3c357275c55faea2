"""The project as code: `baas-mcp pull | plan | push` with appwrite-cli's appwrite.config.json.

`pull` reads a project's schema (databases, tables with their columns and indexes, buckets, teams, topics,
functions' and sites' settings, webhooks, platforms, the project's settings) through the catalog's operations and
writes it in appwrite-cli's file format; `plan` compares a file with the project; `push` applies the plan through
the catalog's create, update and delete operations. Everything runs through one backend interface, so the same code
serves the embedded engine and an Appwrite server.
"""
