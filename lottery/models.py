"""Plans, ratio rules and the provably fair draw (摇号)."""
