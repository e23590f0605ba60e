"""The `ragstore` command, one module per command group, each with a Typer `app` that main.py merges into one.

A command builds its Settings with `context.settings(...)`, opens what it needs with `context.database(...)` or
`context.runtime(...)` (closed on the way out), calls the service layer and prints. Nothing here holds SQL, and a
module imports at its top only what `ragstore --help` may load: the model and the database load when a command runs.
"""
