"""The sandbox's state on disk: snapshots taken at a consistent cut, restored at start."""
