"""The reliability and security suite: fault matrix, interruptions, bad input, secret hygiene, least privilege."""
