"""Offline evaluation of news recommenders on data in the MIND format (Wu et al., ACL 2020)."""
