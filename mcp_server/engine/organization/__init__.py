"""The organization service (Appwrite 1.9's `organization.*`): the projects of the data dir."""
