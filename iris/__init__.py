"""IRIS shared package: event contracts and the plumbing every service stands on."""
