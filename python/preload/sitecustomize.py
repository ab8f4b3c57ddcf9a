"""Loaded by `tornstack run`: import tornstack_hook before the program
starts, then the sitecustomize this one shadows, if any."""
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_here))
import tornstack_hook  # noqa: E402,F401

sys.path.remove(os.path.dirname(_here))
_saved = list(sys.path)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
# The import system takes a module it has just run from sys.modules under
# its name: when no other sitecustomize exists, this one must be there
# again by then, or site reports "Error in sitecustomize: KeyError".
_self = sys.modules.pop("sitecustomize", None)
try:
    import sitecustomize  # noqa: F401  (the user's own, if there is one)
except ImportError:
    pass
finally:
    sys.path[:] = _saved
    if "sitecustomize" not in sys.modules and _self is not None:
        sys.modules["sitecustomize"] = _self
