"""Platform services that own no user data: health checks (health.py), locale lists and the
caller's location (locale.py), generated or fetched images (avatars.py), and the SDKs' ping (ping.py)."""
