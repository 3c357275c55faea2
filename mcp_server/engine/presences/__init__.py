"""Appwrite 1.9.6's `presences` service: who is online, kept per user with an expiry and permissions,
written over the API and by realtime connections (src/Appwrite/Platform/Modules/Presences)."""
