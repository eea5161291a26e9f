"""The rules and use cases of the web side: who may see what, contacts, workflows, manual actions,
messaging, enrollment, counts. No request globals; nothing of api, web, live or integrations."""
