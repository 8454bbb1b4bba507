"""Running one of the bindings' coroutines from plain code (fixtures, module setup)."""

import asyncio


def run(coroutine):
    """Run `coroutine` to its end in a fresh event loop; its result."""
    return asyncio.run(coroutine)
