"""All writes of service commitments; pages, the API, admin and tasks call these."""
