"""The access service's JSON API, one module-level router per resource."""
