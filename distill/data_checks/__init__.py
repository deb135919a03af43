"""Checks and conversions of training data before anything is billed: dataset records, invocation log records and
the filters that select them."""
