"""Platform services that own no user data: health checks (health.py), locale lists and the
caller's location (locale.py), generated or fetched images (avatars.py), the SDKs' ping (ping.py)
and the advisor's reports (advisor.py)."""
