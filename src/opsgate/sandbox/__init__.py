"""An AWS emulator with the example world, for `opsgate demo` and tests (not product code).

`start_sandbox()` runs a moto server on 127.0.0.1 with opsgate's extensions (`moto_extensions`:
the APIs moto lacks) and the resources `examples/opsgate.yaml` refers to (`seed`).
"""

from opsgate.sandbox.server import Sandbox, start_sandbox

__all__ = ["Sandbox", "start_sandbox"]
