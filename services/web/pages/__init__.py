"""The UI's pages: each handler calls the API with the signed-in user's token and renders the answer."""
