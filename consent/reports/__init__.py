"""The consent officers' reports: opt-in, trends, coverage of warnings, data use, the ledger."""
