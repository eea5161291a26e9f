"""Outside services: SMS and voice providers (console and Twilio), Twilio settings,
status callbacks and inbound Twilio webhooks."""
