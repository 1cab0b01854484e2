"""Delivery: what people must be told, to whom, and the messages that tell them.

`fanout.queue` (deliveries: the directory's people, the address check, one key
scheme), `queueing` and `compose` (deliveries into messages within a channel's
limits), `outbox` and `outcomes` (sending, at most once), `directory` and
`directory_files` (the staff directory), `setup` (both from the settings), `models`.
Alerts and notices import this package; it imports neither.
"""
