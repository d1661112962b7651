"""检查对象名录库: pollution sources, their classes, tags and history."""
