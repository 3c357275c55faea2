"""The `graphql` service: the whole API as one GraphQL schema, as Appwrite 1.9.6 serves it."""
