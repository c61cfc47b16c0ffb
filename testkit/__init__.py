"""What the tests and the benchmarks share, kept apart from both so that a benchmark imports no
test module: the fake Slack (`fake_slack`, with the Block Kit checks of `blockkit`), a throwaway
PostgreSQL server (`pgcluster`) and mention factories (`factories`). Not part of the wheel."""
