"""Practice answers and the 错题本 (placeholder)."""
