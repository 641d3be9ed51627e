"""The command line (imports through the API, the first admin token). Tooling: never deployed to Lambda."""
