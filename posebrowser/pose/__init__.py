"""The pose vocabulary: skeleton, posebits and ground-truth distances (numpy only)."""
