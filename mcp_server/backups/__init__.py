"""Online backups of a project (`baas-mcp backup`): taking them while servers keep writing (snapshot.py), the
backups folder and each backup's checksum manifest (archive.py), putting one back (restore.py), and the command
(command.py)."""
