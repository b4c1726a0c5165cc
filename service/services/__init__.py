"""All writes of the service side; pages, the API and admin call these."""
