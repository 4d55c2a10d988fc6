"""The notification pages: the resident's own (resident), and staff's counts (staff)."""
