"""The proxy service (Appwrite 1.9's `proxy.*`): rules routing a domain to the API, a function, a site or a URL."""
