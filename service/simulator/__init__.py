"""The portal simulator: the national portal's evaluation API imitated on the loopback.

It serves recorded answers (`replay`) or a generated country (`generated`), with
faults on demand (`faults`, `wire`), for the demo, `dvcwatch simulator`, the
benchmarks and the tests. It speaks the wire of `service.portal.api`; nothing
in `service.portal` (or anywhere else in the service) imports it.
"""
