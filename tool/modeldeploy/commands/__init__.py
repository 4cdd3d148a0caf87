"""The commands: each orchestrates the stages below it and returns a result; none prints."""
