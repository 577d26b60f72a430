"""The pytest11 entry point: loads ivr-test's pytest plugin (app/pytest_plugin.py) so that it
never shadows, nor is shadowed by, a project's own `app` package.

Our package is called `app` (the project's layout), a name many projects use too. Entry points
load before a project's conftest, so a plain `import app.pytest_plugin` here would put *our*
`app` in `sys.modules` and the project's `import app` would get it. Instead our modules are
imported by file location and kept in a private table; `sys.modules["app*"]` holds them only
while one of the plugin's hooks or test methods runs (`our_app()`), and the project's own `app`
modules are put back as soon as it returns. The plugin's code then imports `app.x` as usual.
"""
import contextlib
import functools
import importlib
import importlib.util
import sys
from pathlib import Path

PACKAGE = "app"
HERE = Path(__file__).resolve().parent / PACKAGE
_ours = {}


def _is_app(name):
    return name == PACKAGE or name.startswith(PACKAGE + ".")


@contextlib.contextmanager
def our_app():
    """`sys.modules` with our `app` modules in place of anyone else's, for the duration."""
    theirs = {name: sys.modules.pop(name) for name in [n for n in sys.modules if _is_app(n)]}
    sys.modules.update(_ours)
    try:
        yield
    finally:
        for name in [n for n in sys.modules if _is_app(n)]:
            _ours[name] = sys.modules.pop(name)
        sys.modules.update(theirs)


def _load_plugin():
    with our_app():
        if PACKAGE not in sys.modules:
            spec = importlib.util.spec_from_file_location(
                PACKAGE, HERE / "__init__.py", submodule_search_locations=[str(HERE)])
            module = importlib.util.module_from_spec(spec)
            sys.modules[PACKAGE] = module
            spec.loader.exec_module(module)
        return importlib.import_module(f"{PACKAGE}.pytest_plugin")


def _guarded(function):
    @functools.wraps(function)
    def call(*args, **kwargs):
        with our_app():
            return function(*args, **kwargs)
    return call


def _already_loaded():
    """True when `-p app.pytest_plugin` (or a conftest) already loaded our plugin directly."""
    module = sys.modules.get(f"{PACKAGE}.pytest_plugin")
    return module is not None and Path(getattr(module, "__file__", "")).resolve().parent == HERE


if not _already_loaded():
    _plugin = _load_plugin()
    for _name in dir(_plugin):
        if _name.startswith("pytest_"):
            globals()[_name] = _guarded(getattr(_plugin, _name))
    for _method in ("runtest", "repr_failure"):      # pytest calls these, not hooks
        setattr(_plugin.SuiteItem, _method, _guarded(getattr(_plugin.SuiteItem, _method)))
