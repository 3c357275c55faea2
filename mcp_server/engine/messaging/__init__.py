"""The messaging service (Appwrite 1.9's `messaging.*`): providers and the delivery they do (providers.py,
delivery.py, adapters/), topics, subscribers and messages."""
