"""Once-Only Technical System: EDM codec, evidence requester and provider over AS4."""
