"""The dialogue engine: what Sawti says to a person, in their language."""
