"""Preview space: the user reviews evidence and decides whether it is released; the user's access log."""
