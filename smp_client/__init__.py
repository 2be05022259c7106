"""Partner discovery: participant identifiers, SML DNS lookups and SMP 1.0/2.0 metadata."""
