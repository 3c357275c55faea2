"""Storage: buckets (buckets.py), files and their downloads (files.py), chunked uploads
(file_uploads.py), image previews (previews.py), file tokens (file_tokens.py), and the bytes on disk:
atomic writes, compression and encryption at rest (stored_files.py)."""
