"""Inspection tasks, the five result types and follow-up of problems."""
