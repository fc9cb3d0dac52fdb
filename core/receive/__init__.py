"""Receive OpenTelemetry spans over OTLP/HTTP and append them to OTLP JSON-lines files.

:mod:`.decode` turns an export request body (protobuf or JSON, gzip or not) into the OTLP/JSON
shape the Collector's file exporter writes; :mod:`.spool` appends it durably to files (one per
day, service or trace, rotated at a size limit); :mod:`.limits` holds the rate and backlog
limits; :mod:`.server` is the HTTP endpoint (``POST /v1/traces``) tying them together.
"""
