"""Recognition's writes, one module per concern (streams, alerts, adjudication, holds)."""
