"""Data: label taxonomies, the embedded emotion world, and real-dataset readers."""
