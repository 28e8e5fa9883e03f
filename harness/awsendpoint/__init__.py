"""AWS endpoint mode: serve the pool at the real AWS host names, over TLS, on loopback only.

See :mod:`harness.awsendpoint.mode` and docs/target-spec.md ("AWS endpoint mode").
"""
