"""Helpers the tests share: databases, timelines, hostile strings, processes to kill."""
