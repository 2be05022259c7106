"""Provider-side preview loop: a pure state machine, the store port it persists through, and the service that
holds request #2 until the user's decision (arriving through the decision port) or T3."""
