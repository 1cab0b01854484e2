"""The national portal as the service reads it: the API's table (`api`), the client,
its bounded transport, the checks and the parser. The simulator that imitates the
portal is `service.simulator`, which this package never imports.
"""
