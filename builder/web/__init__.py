"""The pages (one blueprint per area) and the inbound-webhook trigger endpoint."""
