"""Access: school responsibles grant, limit and revoke staff access; support networks ask for
it; school software gets client credentials. Every grant change is published.

Run its API with `iris api access`; expiry runs inside the API process.
"""
