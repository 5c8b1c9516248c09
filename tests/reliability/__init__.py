"""Reliability: concurrent writers, crashes, hostile input and upgrades lose nothing."""
