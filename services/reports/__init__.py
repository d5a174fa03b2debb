"""Reports: CLB staff issue versioned special-needs reports; only the current version is exposed.

Run its API with `iris api reports`; it has no worker (it reads nothing from Kafka).
"""
