"""What a change does to live traffic, in plain words."""
