"""Data for the local upstream fakes: the shared book catalog and the Wikidata entities."""
