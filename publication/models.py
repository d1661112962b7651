"""The public portal: item list, plans, draw records and results."""
