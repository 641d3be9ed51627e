"""Use cases: what the service does for a request or an event (invite, record an answer, open or update a
task, import, erase), between the handlers that parse and answer and the store that reads and writes."""
