"""Where operations run: the embedded engine, or an Appwrite-compatible server over HTTP."""
