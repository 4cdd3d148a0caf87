"""Running helm: finding and installing it, rendering one deployment or many, `render -o DIR`."""
