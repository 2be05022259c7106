"""Provider side: the EDM answers built from the data service's documents and the preview outcome."""
