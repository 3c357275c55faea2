"""The Appwrite-compatible REST app: the embedded engine served on /v1 in Appwrite's wire format."""
