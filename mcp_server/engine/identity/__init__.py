"""Identity: users (users.py), the signed-in user's own account (account.py), teams and
memberships (teams.py), multi-factor sign-in (mfa.py), passwords and their hashes (passwords.py),
the project's auth policy (policy.py), and the records every other service asks about a caller:
users, sessions, tokens, JWTs and the roles they carry (identities.py)."""
