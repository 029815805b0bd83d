"""Service credentials (product.md §3): recipes + primitives + secret stores + sinks."""
