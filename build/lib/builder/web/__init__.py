"""The pages (one blueprint per area), the login pages, and the endpoints other systems call:
the inbound-webhook trigger and Twilio's signed webhooks."""
