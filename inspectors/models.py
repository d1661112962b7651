"""执法检查人员名录库: certified inspectors, experts, availability, conflicts."""
