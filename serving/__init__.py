"""How the dashboard's answers travel: compression of what the server sends."""
