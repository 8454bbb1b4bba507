"""pytest setup shared by the binding tests.

Every call of the generated Python that touches the database, the image pipeline or the network
is a coroutine (uniffi async functions). Tests are written as `async def`, awaiting them as an app
would; this hook runs each such test in its own event loop (what pytest-asyncio does, without the
plugin). Fixtures, which pytest calls as plain functions, use `coroutines.run`.
"""

import asyncio
import inspect

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**args))
    return True
