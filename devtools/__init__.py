"""Tools for developing and testing this project; none of it is product behaviour."""
