"""The project service (Appwrite 1.9's `project.*` operations): the settings of the project itself,
such as its API keys, platforms, variables, policies, SMTP server, email templates and OAuth2 providers."""
