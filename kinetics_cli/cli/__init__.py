"""The command-line layer: Typer apps that parse, call the library and render. No math here."""
