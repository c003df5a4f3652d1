"""Language and culture: real text encoders, real human ratings, and a linguistic world model
that learns concepts from a corpus stream (seed 000: values are linguistic concepts in a world
model learned from culture, loaded with valence by a reward model over that latent space)."""
